/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by linux-entry-head.S and linux-entry.c: the setup-header values
 * the guest checks the loader against, and the layout of the CPU state
 * recorded at startup_64.
 */
#ifndef GUEST_LINUX_ENTRY_H
#define GUEST_LINUX_ENTRY_H

#include "lib/boot.h"

/*
 * Below the top of the 64 MiB test guest, so the loader has to honour it
 * rather than merely put the initrd at the end of RAM.
 */
#define LINUX_ENTRY_INITRD_ADDR_MAX	0x02ffffff
#define LINUX_ENTRY_CMDLINE_SIZE	2047

/* struct entry_state offsets, for the assembler. */
#define ES_RAX		0x00
#define ES_RBX		0x08
#define ES_RCX		0x10
#define ES_RDX		0x18
#define ES_RSI		0x20
#define ES_RDI		0x28
#define ES_RBP		0x30
#define ES_RSP		0x38
#define ES_RIP		0x40
#define ES_RFLAGS	0x48
#define ES_CR0		0x50
#define ES_CR3		0x58
#define ES_CR4		0x60
#define ES_EFER		0x68
#define ES_CS		0x70
#define ES_DS		0x72
#define ES_ES		0x74
#define ES_SS		0x76
#define ES_FS		0x78
#define ES_GS		0x7a
#define ES_TR		0x7c
#define ES_LDTR		0x7e
#define ES_GDTR		0x80	/* limit (2 bytes), base (8 bytes) */
#define ES_IDTR		0x90
#define ES_SIZE		0xa0

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct descriptor_table_register {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* The processor state at startup_64, as the loader left it. */
struct entry_state {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t rip;			/* where startup_64 really ran */
	uint64_t rflags;
	uint64_t cr0, cr3, cr4, efer;
	uint16_t cs, ds, es, ss, fs, gs, tr, ldtr;
	struct descriptor_table_register gdtr;
	uint8_t pad_8a[6];
	struct descriptor_table_register idtr;
	uint8_t pad_9a[6];
};

_Static_assert(offsetof(struct entry_state, rsi) == ES_RSI, "ES_RSI");
_Static_assert(offsetof(struct entry_state, rip) == ES_RIP, "ES_RIP");
_Static_assert(offsetof(struct entry_state, rflags) == ES_RFLAGS, "ES_RFLAGS");
_Static_assert(offsetof(struct entry_state, efer) == ES_EFER, "ES_EFER");
_Static_assert(offsetof(struct entry_state, cs) == ES_CS, "ES_CS");
_Static_assert(offsetof(struct entry_state, ldtr) == ES_LDTR, "ES_LDTR");
_Static_assert(offsetof(struct entry_state, gdtr) == ES_GDTR, "ES_GDTR");
_Static_assert(offsetof(struct entry_state, idtr) == ES_IDTR, "ES_IDTR");
_Static_assert(sizeof(struct entry_state) == ES_SIZE, "ES_SIZE");

void linux_entry_main(const struct entry_state *state);
#endif

#endif
