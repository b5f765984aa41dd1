/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "fw_cfg.h"
#include "io.h"
#include "string.h"

#define FW_CFG_DMA_POLL_LIMIT	100000

/* fw_cfg.rst: every field big-endian. */
struct fw_cfg_dma_access {
	uint32_t control;
	uint32_t length;
	uint64_t address;
} __attribute__((packed));

/* Directory entry as stored (fw_cfg.rst "File Directory"). */
struct fw_cfg_dir_entry {
	uint32_t size;
	uint16_t select;
	uint16_t reserved;
	char name[FW_CFG_FILE_NAME_MAX];
} __attribute__((packed));

void fw_cfg_select(uint16_t key)
{
	outw(FW_CFG_PORT_SELECTOR, key);
}

void fw_cfg_read(void *buf, size_t len)
{
	uint8_t *p = buf;

	/* The data register is 8 bits wide on x86: one byte per IN. */
	for (size_t i = 0; i < len; i++)
		p[i] = inb(FW_CFG_PORT_DATA);
}

void fw_cfg_read_entry(uint16_t key, void *buf, size_t len)
{
	fw_cfg_select(key);
	fw_cfg_read(buf, len);
}

uint16_t fw_cfg_read_u16(uint16_t key)
{
	uint16_t v;

	fw_cfg_read_entry(key, &v, sizeof(v));
	return v;
}

uint32_t fw_cfg_read_u32(uint16_t key)
{
	uint32_t v;

	fw_cfg_read_entry(key, &v, sizeof(v));
	return v;
}

uint64_t fw_cfg_read_u64(uint16_t key)
{
	uint64_t v;

	fw_cfg_read_entry(key, &v, sizeof(v));
	return v;
}

bool fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_read_entry(FW_CFG_SIGNATURE, sig, sizeof(sig));
	return !memcmp(sig, "QEMU", 4);
}

bool fw_cfg_find_file(const char *name, struct fw_cfg_file *file)
{
	uint32_t count;

	fw_cfg_read_entry(FW_CFG_FILE_DIR, &count, sizeof(count));
	count = be32_to_cpu(count);
	/* Bounded: a broken directory must not keep us reading forever. */
	if (count > 4096)
		return false;
	for (uint32_t i = 0; i < count; i++) {
		struct fw_cfg_dir_entry e;

		fw_cfg_read(&e, sizeof(e));
		e.name[FW_CFG_FILE_NAME_MAX - 1] = '\0';
		if (!strcmp(e.name, name)) {
			file->size = be32_to_cpu(e.size);
			file->select = be16_to_cpu(e.select);
			memcpy(file->name, e.name, sizeof(file->name));
			return true;
		}
	}
	return false;
}

uint32_t fw_cfg_dma(uint32_t control, void *buf, uint32_t len)
{
	static volatile struct fw_cfg_dma_access access
		__attribute__((aligned(16)));
	uint64_t addr = (uint64_t)&access;
	uint32_t status = 0;

	access.control = cpu_to_be32(control);
	access.length = cpu_to_be32(len);
	access.address = cpu_to_be64((uint64_t)buf);
	barrier();
	/*
	 * The register is big-endian: the high dword goes to 0x514, and the
	 * write of the low dword to 0x518 starts the transfer.
	 */
	outl(FW_CFG_PORT_DMA, cpu_to_be32((uint32_t)(addr >> 32)));
	outl(FW_CFG_PORT_DMA + 4, cpu_to_be32((uint32_t)addr));
	/* The device clears control when done, or leaves only ERROR set. */
	for (int i = 0; i < FW_CFG_DMA_POLL_LIMIT; i++) {
		status = be32_to_cpu(access.control);
		if (!(status & ~FW_CFG_DMA_CTL_ERROR))
			break;
		cpu_relax();
	}
	barrier();
	return status;
}

uint64_t fw_cfg_dma_signature(void)
{
	uint64_t high = be32_to_cpu(inl(FW_CFG_PORT_DMA));
	uint64_t low = be32_to_cpu(inl(FW_CFG_PORT_DMA + 4));

	return high << 32 | low;
}
