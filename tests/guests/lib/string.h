/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_STRING_H
#define GUEST_STRING_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* GCC may emit calls to the first four even in freestanding code. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

static inline bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int to_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/*
 * Parses an unsigned number (decimal, or hex with 0x) at the start of s;
 * returns false if s does not start with one or it overflows 64 bits.
 */
bool parse_u64(const char *s, uint64_t *value, const char **end);

static inline uint16_t be16_to_cpu(uint16_t v)
{
	return __builtin_bswap16(v);
}

static inline uint32_t be32_to_cpu(uint32_t v)
{
	return __builtin_bswap32(v);
}

static inline uint64_t be64_to_cpu(uint64_t v)
{
	return __builtin_bswap64(v);
}

#define cpu_to_be16 be16_to_cpu
#define cpu_to_be32 be32_to_cpu
#define cpu_to_be64 be64_to_cpu

#endif
