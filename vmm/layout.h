/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_LAYOUT_H
#define VESSEL_VMM_LAYOUT_H

/*
 * The guest-physical memory map of the Vessel PC.  Everything that places
 * data in guest memory (loaders, MP table, e820) takes its addresses from
 * here so no two users collide.
 *
 *   0x00000000  real-mode IVT + BIOS data area (left zero)
 *   0x00000500  boot GDT (Linux 64-bit boot protocol wants __BOOT_CS/DS)
 *   0x00007000  Linux boot_params ("zero page")
 *   0x00009000  identity page tables for 64-bit entry (PML4, PDPT, 4 PDs)
 *   0x00010000  multiboot information, memory map, module list
 *   0x00020000  kernel command line
 *   0x0009fc00  reserved: top 1 KiB of conventional memory (EBDA)
 *   0x000a0000  reserved: legacy VGA / option ROM window
 *   0x000f0000  reserved: BIOS area, holds the MP floating pointer + table
 *   0x000f1000  ... and the ACPI tables (RSDP first, where guests scan)
 *   0x00100000  kernels load here
 *   ...         RAM up to min(size, PCI_HOLE_START)
 *   0xc0000000  PCI hole: 32-bit BARs, then IOAPIC, LAPIC, KVM's TSS
 *   0x100000000 RAM above 4 GiB when the guest has more than 3 GiB
 */
#define LAYOUT_BOOT_GDT_ADDR		0x00000500ULL
#define LAYOUT_BOOT_PARAMS_ADDR		0x00007000ULL
#define LAYOUT_PAGE_TABLES_ADDR		0x00009000ULL
#define LAYOUT_PAGE_TABLES_SIZE		0x00006000ULL	/* PML4 + PDPT + 4 PDs */
#define LAYOUT_MULTIBOOT_INFO_ADDR	0x00010000ULL
#define LAYOUT_MULTIBOOT_INFO_SIZE	0x00010000ULL
#define LAYOUT_CMDLINE_ADDR		0x00020000ULL
#define LAYOUT_CMDLINE_MAX		0x00010000ULL	/* incl. the NUL */
#define LAYOUT_BOOT_DATA_END		0x00030000ULL
#define LAYOUT_EBDA_ADDR		0x0009fc00ULL
#define LAYOUT_VGA_HOLE_ADDR		0x000a0000ULL
#define LAYOUT_BIOS_AREA_ADDR		0x000f0000ULL
#define LAYOUT_ACPI_ADDR		0x000f1000ULL	/* after the MP table */
#define LAYOUT_ACPI_SIZE		0x00001000ULL
#define LAYOUT_HIGH_MEMORY_ADDR		0x00100000ULL	/* 1 MiB */
#define LAYOUT_KERNEL_ADDR		0x00100000ULL

#define LAYOUT_PCI_HOLE_START		0xc0000000ULL
#define LAYOUT_PCI_MMIO_START		0xc0000000ULL
#define LAYOUT_PCI_MMIO_END		0xfebfffffULL	/* inclusive */
#define LAYOUT_IOAPIC_ADDR		0xfec00000ULL
#define LAYOUT_LAPIC_ADDR		0xfee00000ULL
#define LAYOUT_KVM_IDENTITY_MAP_ADDR	0xfeffc000ULL	/* one page (Intel) */
#define LAYOUT_KVM_TSS_ADDR		0xfeffd000ULL	/* three pages (Intel) */
#define LAYOUT_4GIB			0x100000000ULL

/* The smallest guest we accept: room for boot data, a kernel and a stack. */
#define LAYOUT_MIN_RAM_SIZE		(2ULL << 20)

#endif
