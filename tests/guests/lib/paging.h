/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_PAGING_H
#define GUEST_PAGING_H

#include <stdint.h>

/* Page-table entry bits (SDM vol. 3A §5.5, tables 5-15 to 5-20). */
#define PTE_P		0x001ULL
#define PTE_W		0x002ULL
#define PTE_U		0x004ULL
#define PTE_PWT		0x008ULL
#define PTE_PCD		0x010ULL
#define PTE_A		0x020ULL
#define PTE_D		0x040ULL
#define PTE_PS		0x080ULL
#define PTE_ADDR_MASK	0x000ffffffffff000ULL

#define PAGE_SIZE	4096ULL
#define LARGE_PAGE_SIZE	(2ULL << 20)

/*
 * The boot identity map uses 2 MiB pages.  paging_split turns the large
 * page holding addr (below 4 GiB) into 512 4 KiB pages with the same
 * mapping and returns the new page table; pte_for then finds the 4 KiB
 * entry for an address inside it.  Up to PAGING_MAX_SPLITS splits.
 */
#define PAGING_MAX_SPLITS	4

uint64_t *paging_split(uint64_t addr);
uint64_t *paging_pte(uint64_t addr);	/* NULL if addr is not split */
void paging_set_pte(uint64_t addr, uint64_t flags);	/* keeps the frame */

#endif
