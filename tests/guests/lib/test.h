/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H

#include <stdint.h>

/*
 * Result convention: the guest prints "PASS: <name>" or
 * "FAIL: <name>: <reason>" and writes to the isa-debug-exit style port,
 * which ends the VMM with status (value << 1) | 1.
 */
#define TEST_EXIT_PORT		0xf4
#define TEST_EXIT_PASS		0x20	/* status 65 */
#define TEST_EXIT_FAIL		0x21	/* status 67 */

/* Each guest defines its name, e.g. const char guest_name[] = "serial"; */
extern const char guest_name[];

/* The guest's own entry, called by guest_start; returning 0 passes. */
int main(void);

__attribute__((noreturn)) void test_exit(uint32_t value);
__attribute__((noreturn)) void test_pass(void);
__attribute__((noreturn, format(printf, 1, 2)))
void test_fail(const char *fmt, ...);

/* Fails the test with the message unless cond holds. */
#define test_assert(cond, ...)					\
	do {							\
		if (!(cond))					\
			test_fail(__VA_ARGS__);			\
	} while (0)

#endif
