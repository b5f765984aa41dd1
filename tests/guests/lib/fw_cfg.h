/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef GUEST_FW_CFG_H
#define GUEST_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* QEMU docs/specs/fw_cfg.rst: the x86 I/O port interface. */
#define FW_CFG_PORT_SELECTOR	0x510	/* 16-bit write */
#define FW_CFG_PORT_DATA	0x511	/* 8-bit read */
#define FW_CFG_PORT_DMA		0x514	/* 64-bit big-endian address */

/* Selector keys ("Selector Reg. Key Values" in fw_cfg.rst). */
#define FW_CFG_SIGNATURE	0x0000
#define FW_CFG_ID		0x0001
#define FW_CFG_RAM_SIZE		0x0003
#define FW_CFG_NB_CPUS		0x0005
#define FW_CFG_FILE_DIR		0x0019

#define FW_CFG_ID_TRADITIONAL	0x01
#define FW_CFG_ID_DMA		0x02

/* Reading the DMA address register returns this (fw_cfg.rst "DMA"). */
#define FW_CFG_DMA_SIGNATURE	0x51454d5520434647ULL	/* "QEMU CFG" */

/* FWCfgDmaAccess.control bits. */
#define FW_CFG_DMA_CTL_ERROR	0x01
#define FW_CFG_DMA_CTL_READ	0x02
#define FW_CFG_DMA_CTL_SKIP	0x04
#define FW_CFG_DMA_CTL_SELECT	0x08
#define FW_CFG_DMA_CTL_WRITE	0x10

#define FW_CFG_FILE_NAME_MAX	56

struct fw_cfg_file {
	uint32_t size;		/* host byte order */
	uint16_t select;
	char name[FW_CFG_FILE_NAME_MAX];
};

void fw_cfg_select(uint16_t key);
void fw_cfg_read(void *buf, size_t len);
/* Select `key`, then read len bytes from its start. */
void fw_cfg_read_entry(uint16_t key, void *buf, size_t len);
uint16_t fw_cfg_read_u16(uint16_t key);		/* little-endian items */
uint32_t fw_cfg_read_u32(uint16_t key);
uint64_t fw_cfg_read_u64(uint16_t key);
bool fw_cfg_present(void);			/* signature "QEMU" */

/* Walks the file directory (key 0x19); false if name is not there. */
bool fw_cfg_find_file(const char *name, struct fw_cfg_file *file);

/*
 * One DMA transfer (fw_cfg.rst "DMA interface"): control is the
 * FW_CFG_DMA_CTL_* bits plus the selector in bits 31:16 when SELECT is
 * set.  Returns the control word the device left (0 on success).
 */
uint32_t fw_cfg_dma(uint32_t control, void *buf, uint32_t len);
/* The 64-bit value of the DMA address register, high dword first. */
uint64_t fw_cfg_dma_signature(void);

#endif
