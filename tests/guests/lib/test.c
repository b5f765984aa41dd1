/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>

#include "test.h"
#include "io.h"
#include "printf.h"

void test_exit(uint32_t value)
{
	outl(TEST_EXIT_PORT, value);
	/* Without an exit device the VMM's timeout has to end us. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

void test_pass(void)
{
	printf("PASS: %s\n", guest_name);
	test_exit(TEST_EXIT_PASS);
}

void test_fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: %s: ", guest_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	test_exit(TEST_EXIT_FAIL);
}
