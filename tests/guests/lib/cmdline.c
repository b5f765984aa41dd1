/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "cmdline.h"
#include "printf.h"
#include "string.h"

/* Finds the last word of line starting with `prefix`; NULL if none. */
static const char *cmdline_find_word(const char *line, const char *prefix,
				     size_t *word_len)
{
	const char *s = line, *found = NULL;
	size_t prefix_len = strlen(prefix);

	while (*s) {
		size_t n = 0;

		while (is_space(*s))
			s++;
		while (s[n] && !is_space(s[n]))
			n++;
		if (n >= prefix_len && !strncmp(s, prefix, prefix_len)) {
			found = s;
			*word_len = n;
		}
		s += n;
	}
	return found;
}

bool cmdline_find_value(const char *line, const char *key, char *buf,
			size_t size)
{
	char prefix[64];
	const char *word;
	size_t len = 0, value_len;

	snprintf(prefix, sizeof(prefix), "%s=", key);
	word = cmdline_find_word(line, prefix, &len);
	if (!word || !size)
		return false;
	value_len = len - strlen(prefix);
	if (value_len >= size)
		value_len = size - 1;
	memcpy(buf, word + strlen(prefix), value_len);
	buf[value_len] = '\0';
	return true;
}

bool cmdline_find_u64(const char *line, const char *key, uint64_t *value)
{
	char buf[32];
	const char *end;

	if (!cmdline_find_value(line, key, buf, sizeof(buf)))
		return false;
	return parse_u64(buf, value, &end) && *end == '\0';
}
