/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exit: the test-exit port alone.  Writes the value of `code=` from the
 * command line to port 0xf4, so the VMM must exit with (code << 1) | 1;
 * proves the status plumbing the other guests rely on.
 */
#include "lib/io.h"
#include "lib/multiboot.h"
#include "lib/printf.h"
#include "lib/test.h"

const char guest_name[] = "exit";

int main(void)
{
	uint64_t code;

	printf("exit: command line \"%s\"\n", boot_info.cmdline);
	if (!cmdline_get_u64("code", &code) || code > 0x7fffffff)
		test_fail("no usable code=N on the command line");
	printf("exit: writing %lu to port %#x, expect status %lu\n", code,
	       TEST_EXIT_PORT, ((code << 1) | 1) & 0xff);
	test_exit((uint32_t)code);
}
