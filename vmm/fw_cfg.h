/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VESSEL_VMM_FW_CFG_H
#define VESSEL_VMM_FW_CFG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "guest_memory.h"

/*
 * A QEMU-compatible firmware configuration device (QEMU docs/specs/fw_cfg.rst):
 * selector at port 0x510, data at 0x511, DMA address at 0x514-0x51b.
 * Firmware (SeaBIOS, OVMF) and test kernels read the machine's description
 * from it.  Every item is read-only to the guest.
 */
#define FW_CFG_PORT_SELECTOR	0x510
#define FW_CFG_PORT_DATA	0x511
#define FW_CFG_PORT_DMA		0x514
#define FW_CFG_PORT_COUNT	12	/* 0x510..0x51b */

#define FW_CFG_SIGNATURE	0x0000
#define FW_CFG_ID		0x0001
#define FW_CFG_UUID		0x0002
#define FW_CFG_RAM_SIZE		0x0003
#define FW_CFG_NOGRAPHIC	0x0004
#define FW_CFG_NB_CPUS		0x0005
#define FW_CFG_MAX_CPUS		0x000f
#define FW_CFG_FILE_DIR		0x0019
#define FW_CFG_FILE_FIRST	0x0020

#define FW_CFG_MAX_FILE_NAME	56	/* incl. the NUL */
#define FW_CFG_MAX_FILES	64

struct fw_cfg;

struct fw_cfg *fw_cfg_new(const struct guest_memory *mem);
void fw_cfg_free(struct fw_cfg *fw_cfg);
/* Forgets the selection and pending DMA address, as on power-on. */
void fw_cfg_reset(struct fw_cfg *fw_cfg);

/* Adds or replaces a numbered item; takes a copy. */
void fw_cfg_add_bytes(struct fw_cfg *fw_cfg, uint16_t key, const void *data, size_t len);
void fw_cfg_add_u16(struct fw_cfg *fw_cfg, uint16_t key, uint16_t value);
void fw_cfg_add_u32(struct fw_cfg *fw_cfg, uint16_t key, uint32_t value);
void fw_cfg_add_u64(struct fw_cfg *fw_cfg, uint16_t key, uint64_t value);
/* Adds a named file to the directory (names unique, < 56 bytes). */
bool fw_cfg_add_file(struct fw_cfg *fw_cfg, const char *name, GBytes *data, GError **error);

extern const struct bus_ops fw_cfg_bus_ops;	/* register at FW_CFG_PORT_SELECTOR */

#endif
