/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdbool.h>

#include "printf.h"
#include "serial.h"
#include "string.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_char(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_number(struct out *o, uint64_t v, unsigned int base,
		       bool upper, bool negative, int width, char pad,
		       bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (negative && pad == '0') {
		out_char(o, '-');
		width--;
	} else if (negative) {
		tmp[n++] = '-';
	}
	if (!left) {
		for (int i = n; i < width; i++)
			out_char(o, pad);
	}
	while (n)
		out_char(o, tmp[--n]);
	if (left) {
		for (int i = (int)(negative && pad == '0') + n; i < width; i++)
			out_char(o, ' ');
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { .buf = buf, .size = size };

	for (; *fmt; fmt++) {
		bool left = false, negative = false, alternate = false;
		char pad = ' ';
		int width = 0, longs = 0;
		uint64_t v;

		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '#')
				alternate = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		for (;; fmt++) {
			if (*fmt == 'l' || *fmt == 'z')
				longs++;
			else if (*fmt != 'h')
				break;
		}
		if (left)
			pad = ' ';
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t s = longs ? va_arg(ap, int64_t) : va_arg(ap, int);

			negative = s < 0;
			v = negative ? -(uint64_t)s : (uint64_t)s;
			out_number(&o, v, 10, false, negative, width, pad, left);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
			if (alternate && (*fmt == 'x' || *fmt == 'X')) {
				/* The width counts the prefix, as in C99. */
				out_char(&o, '0');
				out_char(&o, *fmt);
				width = width > 2 ? width - 2 : 0;
			}
			out_number(&o, v, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16,
				   *fmt == 'X', false, width, pad, left);
			break;
		case 'p':
			out_char(&o, '0');
			out_char(&o, 'x');
			out_number(&o, (uintptr_t)va_arg(ap, void *), 16, false,
				   false, width, pad, left);
			break;
		case 'c':
			out_char(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int n;

			if (!s)
				s = "(null)";
			n = (int)strlen(s);
			for (int i = n; !left && i < width; i++)
				out_char(&o, ' ');
			while (*s)
				out_char(&o, *s++);
			for (int i = n; left && i < width; i++)
				out_char(&o, ' ');
			break;
		}
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
	}
	if (o.size)
		o.buf[o.len < o.size ? o.len : o.size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	serial_write(buf);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}
