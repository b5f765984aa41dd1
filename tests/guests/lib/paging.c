/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "paging.h"
#include "boot.h"
#include "io.h"

static uint64_t page_tables[PAGING_MAX_SPLITS][512]
	__attribute__((aligned(4096)));
static unsigned int page_tables_used;

uint64_t *paging_split(uint64_t addr)
{
	unsigned int pd_index = (unsigned int)(addr >> 21);
	uint64_t pde, base, *pt;

	if (pd_index >= 4 * 512 || page_tables_used == PAGING_MAX_SPLITS)
		return 0;
	pde = boot_pd[pd_index];
	if (!(pde & PTE_PS))
		return (uint64_t *)(pde & PTE_ADDR_MASK);
	pt = page_tables[page_tables_used++];
	base = pde & ~(LARGE_PAGE_SIZE - 1) & PTE_ADDR_MASK;
	for (unsigned int i = 0; i < 512; i++)
		pt[i] = (base + i * PAGE_SIZE) | (pde & (PTE_P | PTE_W | PTE_U |
							 PTE_PWT | PTE_PCD));
	boot_pd[pd_index] = (uint64_t)pt | PTE_P | PTE_W;
	/* SDM vol. 3A §5.10.4.1: a CR3 write drops the old translations. */
	write_cr3(read_cr3());
	return pt;
}

uint64_t *paging_pte(uint64_t addr)
{
	unsigned int pd_index = (unsigned int)(addr >> 21);
	uint64_t pde;

	if (pd_index >= 4 * 512)
		return 0;
	pde = boot_pd[pd_index];
	if (pde & PTE_PS)
		return 0;
	return (uint64_t *)(pde & PTE_ADDR_MASK) + ((addr >> 12) & 511);
}

void paging_set_pte(uint64_t addr, uint64_t flags)
{
	uint64_t *pte = paging_pte(addr);

	if (!pte)
		return;
	*pte = (*pte & PTE_ADDR_MASK) | flags;
	invlpg(addr);
}
