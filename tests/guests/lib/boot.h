/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_BOOT_H
#define GUEST_BOOT_H

/* Selectors of the GDT set up in boot.S. */
#define GDT_CODE64	0x08
#define GDT_DATA	0x10
#define GDT_CODE32	0x18
#define GDT_SIZE	32		/* four descriptors */

#define BOOT_STACK_SIZE	16384
#define AP_STACK_SHIFT	12		/* 4 KiB per application processor */
#define SMP_MAX_APS	15

#ifndef __ASSEMBLER__
#include <stdint.h>

extern uint64_t boot_pml4[512];
extern uint64_t boot_pd[4 * 512];	/* 2 MiB pages, 0-4 GiB */
extern char __image_start[], __image_end[];
extern volatile uint32_t ap_next_index;

void guest_start(uint32_t magic, uint32_t info_addr);
#endif

#endif
