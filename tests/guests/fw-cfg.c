/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fw-cfg: QEMU's firmware configuration interface (QEMU
 * docs/specs/fw_cfg.rst), which vessel-vmm implements compatibly.
 *
 * Asserts: signature "QEMU" (key 0x0000); the ID (key 0x0001) offers the
 * traditional and the DMA interface; reading the DMA register gives
 * "QEMU CFG"; the RAM size (key 0x0003), all RAM below and above the PCI
 * hole, covers the multiboot memory map's RAM and exceeds it by no more
 * than firmware reserves; the CPU count (key
 * 0x0005) equals `cpus=N` from the command line; the file directory (key
 * 0x0019) lists opt/vessel/test (the runner adds it with
 * string=hello-fw-cfg), whose contents read the same through the data
 * port and through DMA (select+read, then select+skip+read of a part);
 * a DMA read of an unknown selector fails or reads zeros, never hangs.
 */
#include "lib/fw_cfg.h"
#include "lib/multiboot.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "lib/test.h"

const char guest_name[] = "fw-cfg";

#define TEST_FILE		"opt/vessel/test"
#define TEST_CONTENTS		"hello-fw-cfg"
#define FIRMWARE_RESERVE_MAX	(1ULL << 20)

static void test_identity(void)
{
	char sig[5] = "";
	uint32_t id;
	uint64_t dma_sig;

	fw_cfg_read_entry(FW_CFG_SIGNATURE, sig, 4);
	printf("fw-cfg: signature \"%s\"\n", sig);
	test_assert(!memcmp(sig, "QEMU", 4), "signature is \"%s\", want QEMU",
		    sig);
	id = fw_cfg_read_u32(FW_CFG_ID);
	dma_sig = fw_cfg_dma_signature();
	printf("fw-cfg: id %#x, DMA register reads %#lx\n", id, dma_sig);
	test_assert(id & FW_CFG_ID_TRADITIONAL, "ID %#x lacks the port interface",
		    id);
	test_assert(id & FW_CFG_ID_DMA, "ID %#x lacks the DMA interface", id);
	test_assert(dma_sig == FW_CFG_DMA_SIGNATURE,
		    "DMA register reads %#lx, want \"QEMU CFG\"", dma_sig);
}

static void test_machine_items(void)
{
	uint64_t ram = fw_cfg_read_u64(FW_CFG_RAM_SIZE);
	uint64_t top = multiboot_ram_top_below_4g();
	uint64_t high = multiboot_ram_above_4g();
	uint64_t want_cpus;
	uint16_t cpus = fw_cfg_read_u16(FW_CFG_NB_CPUS);

	/*
	 * QEMU's item is all of the guest's RAM, below and above the PCI
	 * hole together: compare it with the map's RAM below 4 GiB (up to
	 * its top, holes under 1 MiB included) plus the RAM above.
	 */
	printf("fw-cfg: RAM size %#lx (%lu MiB); memory map: %#lx below 4 GiB + %#lx above\n",
	       ram, ram >> 20, top, high);
	test_assert(top && ram >= top + high &&
		    ram - (top + high) <= FIRMWARE_RESERVE_MAX,
		    "RAM size %#lx does not match the memory map (%#lx + %#lx)",
		    ram, top, high);

	printf("fw-cfg: %u CPUs\n", cpus);
	test_assert(cmdline_get_u64("cpus", &want_cpus),
		    "no cpus=N on the command line");
	test_assert(cpus == want_cpus, "fw_cfg says %u CPUs, want %lu", cpus,
		    want_cpus);
}

static void test_file(void)
{
	struct fw_cfg_file file;
	char port_buf[64], dma_buf[64];
	uint32_t status;
	size_t len = strlen(TEST_CONTENTS);

	test_assert(fw_cfg_find_file(TEST_FILE, &file),
		    "%s is not in the file directory", TEST_FILE);
	printf("fw-cfg: %s: select %#x, %u bytes\n", file.name, file.select,
	       file.size);
	test_assert(file.size == len, "%s has %u bytes, want %u", TEST_FILE,
		    file.size, (unsigned int)len);

	memset(port_buf, 0, sizeof(port_buf));
	fw_cfg_read_entry(file.select, port_buf, file.size);
	printf("fw-cfg: port I/O read \"%s\"\n", port_buf);
	test_assert(!memcmp(port_buf, TEST_CONTENTS, len),
		    "port I/O read \"%s\", want \"%s\"", port_buf, TEST_CONTENTS);

	memset(dma_buf, 0, sizeof(dma_buf));
	status = fw_cfg_dma((uint32_t)file.select << 16 | FW_CFG_DMA_CTL_SELECT |
			    FW_CFG_DMA_CTL_READ, dma_buf, file.size);
	printf("fw-cfg: DMA read \"%s\", control %#x\n", dma_buf, status);
	test_assert(status == 0, "DMA read ended with control %#x", status);
	test_assert(!memcmp(dma_buf, TEST_CONTENTS, len),
		    "DMA read \"%s\", want \"%s\"", dma_buf, TEST_CONTENTS);

	/* fw_cfg.rst: SKIP advances the offset like a read, writing nothing. */
	memset(dma_buf, 0, sizeof(dma_buf));
	status = fw_cfg_dma((uint32_t)file.select << 16 | FW_CFG_DMA_CTL_SELECT |
			    FW_CFG_DMA_CTL_SKIP, dma_buf, 6);
	test_assert(status == 0, "DMA skip ended with control %#x", status);
	test_assert(dma_buf[0] == 0, "DMA skip wrote to memory");
	status = fw_cfg_dma(FW_CFG_DMA_CTL_READ, dma_buf, 6);
	printf("fw-cfg: DMA skip 6 + read 6 \"%s\", control %#x\n", dma_buf,
	       status);
	test_assert(status == 0 && !memcmp(dma_buf, TEST_CONTENTS + 6, 6),
		    "skip+read gave \"%s\" (control %#x), want \"%s\"", dma_buf,
		    status, TEST_CONTENTS + 6);

	/*
	 * fw_cfg.rst: reading past the end of an item (or an item that does
	 * not exist) yields zeros; either way the device must finish.
	 */
	memset(dma_buf, 0xaa, sizeof(dma_buf));
	status = fw_cfg_dma(0x7ffe << 16 | FW_CFG_DMA_CTL_SELECT |
			    FW_CFG_DMA_CTL_READ, dma_buf, 8);
	printf("fw-cfg: DMA read of absent key 0x7ffe: control %#x, first byte %#x\n",
	       status, (uint8_t)dma_buf[0]);
	test_assert(!(status & ~FW_CFG_DMA_CTL_ERROR),
		    "DMA of an absent key never finished (control %#x)", status);
}

int main(void)
{
	test_identity();
	test_machine_items();
	test_file();
	return 0;
}
