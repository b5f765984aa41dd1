/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Linux bzImage through the 64-bit boot protocol (Documentation/x86/boot.rst,
 * "64-bit Boot Protocol"; the zero page is Documentation/x86/zero-page.rst).
 *
 * The kernel's real-mode setup code never runs: we fill the zero page it
 * would have filled and start the CPU in 64-bit mode.  Two ways to place the
 * kernel:
 *
 *  - host-side unpacking (the default): the compressed payload is unpacked
 *    here and its ELF segments go where they were linked; the CPU starts in
 *    the uncompressed kernel's startup_64 (arch/x86/kernel/head_64.S), as
 *    the kernel's decompressor would have jumped there without KASLR;
 *  - guest-side (config->guest_decompress, or a payload we cannot unpack):
 *    the protected-mode part of the bzImage goes to 1 MiB and the CPU starts
 *    at its startup_64 (load address + 0x200), which decompresses the kernel.
 */
#include "loader.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "e820.h"
#include "error.h"
#include "layout.h"
#include "loader_cache.h"
#include "loader_unpack.h"
#include "loader_vmlinux.h"
#include "log.h"

#define MIB				((uint64_t)1 << 20)
#define PAGE_SIZE			((uint64_t)0x1000)

/* boot.rst, "The Real-Mode Kernel Header" and "Details of Header Fields". */
#define LINUX_SETUP_HEADER_OFFSET	0x1f1
#define LINUX_BOOT_FLAG_OFFSET		0x1fe
#define LINUX_JUMP_LENGTH_OFFSET	0x201		/* jump's 8-bit displacement */
#define LINUX_HEADER_MAGIC_OFFSET	0x202
#define LINUX_BOOT_FLAG			0xaa55
#define LINUX_HEADER_MAGIC		0x53726448	/* "HdrS" */
#define LINUX_PROTOCOL_MIN		0x020c		/* 2.12: xloadflags */
#define LINUX_PROTOCOL_PAYLOAD		0x0208		/* payload_offset/_length */
#define LINUX_SECTOR_SIZE		512
#define LINUX_SETUP_SECTS_DEFAULT	4		/* when setup_sects is 0 */
#define LINUX_LOADED_HIGH		(1u << 0)	/* loadflags */
#define LINUX_KASLR_FLAG		(1u << 1)	/* loadflags, kernel-internal */
#define LINUX_CAN_USE_HEAP		(1u << 7)	/* loadflags */
#define LINUX_XLF_KERNEL_64		(1u << 0)	/* xloadflags */
#define LINUX_LOADER_UNDEFINED		0xff		/* type_of_loader */
#define LINUX_VID_MODE_NORMAL		0xffff		/* "vga=normal" */
#define LINUX_INITRD_ADDR_MAX_OLD	0x37ffffff	/* before protocol 2.03 */
#define LINUX_ENTRY_64_OFFSET		0x200		/* "64-bit Boot Protocol" */
#define LINUX_SUBARCH_PC		0

/* The setup header, as found at offset 0x1f1 of the image and of boot_params. */
struct linux_setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

#define LINUX_HDR_ASSERT(field, offset) \
	G_STATIC_ASSERT(LINUX_SETUP_HEADER_OFFSET + offsetof(struct linux_setup_header, field) == (offset))
LINUX_HDR_ASSERT(syssize, 0x1f4);
LINUX_HDR_ASSERT(vid_mode, 0x1fa);
LINUX_HDR_ASSERT(boot_flag, 0x1fe);
LINUX_HDR_ASSERT(header, 0x202);
LINUX_HDR_ASSERT(version, 0x206);
LINUX_HDR_ASSERT(type_of_loader, 0x210);
LINUX_HDR_ASSERT(loadflags, 0x211);
LINUX_HDR_ASSERT(ramdisk_image, 0x218);
LINUX_HDR_ASSERT(ramdisk_size, 0x21c);
LINUX_HDR_ASSERT(heap_end_ptr, 0x224);
LINUX_HDR_ASSERT(cmd_line_ptr, 0x228);
LINUX_HDR_ASSERT(initrd_addr_max, 0x22c);
LINUX_HDR_ASSERT(kernel_alignment, 0x230);
LINUX_HDR_ASSERT(relocatable_kernel, 0x234);
LINUX_HDR_ASSERT(xloadflags, 0x236);
LINUX_HDR_ASSERT(cmdline_size, 0x238);
LINUX_HDR_ASSERT(hardware_subarch, 0x23c);
LINUX_HDR_ASSERT(payload_offset, 0x248);
LINUX_HDR_ASSERT(payload_length, 0x24c);
LINUX_HDR_ASSERT(pref_address, 0x258);
LINUX_HDR_ASSERT(init_size, 0x260);
LINUX_HDR_ASSERT(kernel_info_offset, 0x268);

/* zero-page.rst: struct e820_entry as the kernel reads it. */
struct linux_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct linux_e820_entry) == 20);

#define LINUX_E820_TABLE_MAX	128	/* 0xa00 bytes at 0x2d0 */

/* zero-page.rst: struct boot_params, the 4 KiB "zero page". */
struct linux_boot_params {
	uint8_t screen_info[0x40];			/* 0x000 */
	uint8_t apm_bios_info[0x14];			/* 0x040 */
	uint8_t pad_054[4];
	uint64_t tboot_addr;				/* 0x058 */
	uint8_t ist_info[0x10];				/* 0x060 */
	uint64_t acpi_rsdp_addr;			/* 0x070 */
	uint8_t pad_078[8];
	uint8_t hd0_info[0x10];				/* 0x080 */
	uint8_t hd1_info[0x10];				/* 0x090 */
	uint8_t sys_desc_table[0x10];			/* 0x0a0 */
	uint8_t olpc_ofw_header[0x10];			/* 0x0b0 */
	uint32_t ext_ramdisk_image;			/* 0x0c0 */
	uint32_t ext_ramdisk_size;			/* 0x0c4 */
	uint32_t ext_cmd_line_ptr;			/* 0x0c8 */
	uint8_t pad_0cc[0x13c - 0xcc];
	uint32_t cc_blob_address;			/* 0x13c */
	uint8_t edid_info[0x80];			/* 0x140 */
	uint8_t efi_info[0x20];				/* 0x1c0 */
	uint32_t alt_mem_k;				/* 0x1e0 */
	uint32_t scratch;				/* 0x1e4 */
	uint8_t e820_entries;				/* 0x1e8 */
	uint8_t eddbuf_entries;				/* 0x1e9 */
	uint8_t edd_mbr_sig_buf_entries;		/* 0x1ea */
	uint8_t kbd_status;				/* 0x1eb */
	uint8_t secure_boot;				/* 0x1ec */
	uint8_t pad_1ed[2];
	uint8_t sentinel;				/* 0x1ef */
	uint8_t pad_1f0;
	struct linux_setup_header hdr;			/* 0x1f1 */
	uint8_t pad_hdr[0x290 - 0x1f1 - sizeof(struct linux_setup_header)];
	uint32_t edd_mbr_sig_buffer[16];		/* 0x290 */
	struct linux_e820_entry e820_table[LINUX_E820_TABLE_MAX];	/* 0x2d0 */
	uint8_t pad_cd0[0xd00 - 0xcd0];
	uint8_t eddbuf[0x1ec];				/* 0xd00 */
	uint8_t pad_eec[0x1000 - 0xeec];
} __attribute__((packed));

#define LINUX_BP_ASSERT(field, offset) \
	G_STATIC_ASSERT(offsetof(struct linux_boot_params, field) == (offset))
LINUX_BP_ASSERT(acpi_rsdp_addr, 0x070);
LINUX_BP_ASSERT(ext_ramdisk_image, 0x0c0);
LINUX_BP_ASSERT(ext_ramdisk_size, 0x0c4);
LINUX_BP_ASSERT(ext_cmd_line_ptr, 0x0c8);
LINUX_BP_ASSERT(cc_blob_address, 0x13c);
LINUX_BP_ASSERT(e820_entries, 0x1e8);
LINUX_BP_ASSERT(sentinel, 0x1ef);
LINUX_BP_ASSERT(hdr, LINUX_SETUP_HEADER_OFFSET);
LINUX_BP_ASSERT(edd_mbr_sig_buffer, 0x290);
LINUX_BP_ASSERT(e820_table, 0x2d0);
LINUX_BP_ASSERT(eddbuf, 0xd00);
G_STATIC_ASSERT(sizeof(struct linux_boot_params) == 0x1000);
G_STATIC_ASSERT(E820_MAX_ENTRIES <= LINUX_E820_TABLE_MAX);

/* Where the setup header, copied into boot_params, must end at the latest. */
#define LINUX_SETUP_HEADER_AREA_END	offsetof(struct linux_boot_params, edd_mbr_sig_buffer)

/* 4-level paging entries (Intel SDM Vol. 3A §4.5, Tables 4-15 to 4-18). */
#define PTE_PRESENT	(1ULL << 0)
#define PTE_WRITABLE	(1ULL << 1)
#define PTE_LARGE	(1ULL << 7)	/* PS: the PDE maps a 2 MiB page */
#define PAGE_2M_SHIFT	21
#define IDENTITY_MAP_PDS 4		/* 4 x 1 GiB: the first 4 GiB */
G_STATIC_ASSERT((2 + IDENTITY_MAP_PDS) * PAGE_SIZE == LAYOUT_PAGE_TABLES_SIZE);

/* What the image tells us, validated; all pointers point into the file. */
struct linux_image {
	const char *path;
	struct linux_setup_header hdr;	/* bytes past the header's end read as 0 */
	size_t hdr_end;			/* file offset just past the setup header */
	size_t setup_size;		/* boot sector + real-mode setup code */
	const uint8_t *kernel;		/* protected-mode part: goes to 1 MiB */
	size_t kernel_size;
	/*
	 * The compressed kernel inside the protected-mode part (boot.rst,
	 * "payload_offset"), for unpacking on the host; NULL when the header
	 * does not describe one that lies inside the file.
	 */
	const uint8_t *payload;
	size_t payload_size;
};

bool loader_linux_probe(const uint8_t *image, size_t size)
{
	uint16_t boot_flag;
	uint32_t magic;

	if (size < LINUX_SETUP_HEADER_OFFSET + sizeof(struct linux_setup_header))
		return false;
	memcpy(&boot_flag, image + LINUX_BOOT_FLAG_OFFSET, sizeof(boot_flag));
	memcpy(&magic, image + LINUX_HEADER_MAGIC_OFFSET, sizeof(magic));
	return boot_flag == LINUX_BOOT_FLAG && magic == LINUX_HEADER_MAGIC;
}

static bool linux_parse(const char *path, const uint8_t *image, size_t size,
			struct linux_image *img, GError **error)
{
	struct linux_setup_header *hdr = &img->hdr;
	unsigned int setup_sects;

	memset(img, 0, sizeof(*img));
	img->path = path;
	/*
	 * "The end of setup header can be calculated as 0x0202 + byte value at
	 * offset 0x0201"; boot_params has room up to edd_mbr_sig_buffer.
	 */
	img->hdr_end = MIN(LINUX_HEADER_MAGIC_OFFSET + (size_t)image[LINUX_JUMP_LENGTH_OFFSET],
			   MIN(LINUX_SETUP_HEADER_AREA_END, size));
	memcpy(hdr, image + LINUX_SETUP_HEADER_OFFSET,
	       MIN(img->hdr_end, LINUX_SETUP_HEADER_OFFSET + sizeof(*hdr)) - LINUX_SETUP_HEADER_OFFSET);

	if (hdr->version < LINUX_PROTOCOL_MIN) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' uses Linux boot protocol %u.%02u; vessel-vmm needs 2.12 or newer with a 64-bit entry point (Linux 3.8+ x86-64)",
			    path, hdr->version >> 8, hdr->version & 0xff);
		return false;
	}
	if (!(hdr->xloadflags & LINUX_XLF_KERNEL_64)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is a 32-bit Linux kernel (no 64-bit entry point in its xloadflags); "
			    "vessel-vmm boots x86-64 kernels only: use an amd64 kernel such as Debian's linux-image-amd64",
			    path);
		return false;
	}
	if (!(hdr->loadflags & LINUX_LOADED_HIGH)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is a zImage, which loads below 1 MiB; vessel-vmm boots bzImage kernels only", path);
		return false;
	}

	setup_sects = hdr->setup_sects ? hdr->setup_sects : LINUX_SETUP_SECTS_DEFAULT;
	img->setup_size = (setup_sects + 1) * LINUX_SECTOR_SIZE;
	if (img->setup_size >= size) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is truncated: its %zu bytes of setup code leave no room for the kernel",
			    path, img->setup_size);
		return false;
	}
	img->kernel = image + img->setup_size;
	img->kernel_size = size - img->setup_size;
	/* syssize counts 16-byte paragraphs; a signed image has more after them. */
	if ((uint64_t)hdr->syssize * 16 > img->kernel_size) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is truncated: its header announces %" PRIu64 " bytes of kernel after the setup code, the file holds %zu",
			    path, (uint64_t)hdr->syssize * 16, img->kernel_size);
		return false;
	}

	if (hdr->version >= LINUX_PROTOCOL_PAYLOAD && hdr->payload_length &&
	    hdr->payload_offset <= img->kernel_size &&
	    hdr->payload_length <= img->kernel_size - hdr->payload_offset) {
		img->payload = img->kernel + hdr->payload_offset;
		img->payload_size = hdr->payload_length;
	}
	return true;
}

/*
 * The memory the kernel occupies before it can read the memory map: the
 * copied image at 1 MiB and init_size bytes from its runtime start address.
 * boot.rst, "init_size": a relocatable kernel runs at the load address aligned
 * up to kernel_alignment, others at pref_address; the compressed kernel's
 * startup_64 also never runs a relocatable kernel below LOAD_PHYSICAL_ADDR,
 * which the header publishes as pref_address.
 */
static bool linux_kernel_end(const struct linux_image *img, uint64_t *end, GError **error)
{
	const struct linux_setup_header *hdr = &img->hdr;
	uint64_t runtime_start = LAYOUT_KERNEL_ADDR;
	uint64_t align = hdr->kernel_alignment;

	if (hdr->relocatable_kernel) {
		if (align > 1)
			runtime_start = (runtime_start + align - 1) & ~(align - 1);
		runtime_start = MAX(runtime_start, hdr->pref_address);
	} else if (hdr->pref_address) {
		runtime_start = hdr->pref_address;
	}
	/* The kernel must fit in RAM below the PCI hole, whatever --memory says. */
	if (runtime_start >= LAYOUT_PCI_HOLE_START ||
	    hdr->init_size > LAYOUT_PCI_HOLE_START - runtime_start ||
	    img->kernel_size > LAYOUT_PCI_HOLE_START - LAYOUT_KERNEL_ADDR) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' asks for memory beyond %llu MiB (runs at 0x%" PRIx64 ", init_size %u bytes), more than any guest has below the PCI hole",
			    img->path, LAYOUT_PCI_HOLE_START / MIB, runtime_start, hdr->init_size);
		return false;
	}
	*end = MAX(LAYOUT_KERNEL_ADDR + img->kernel_size, runtime_start + hdr->init_size);
	return true;
}

/* Guest RAM must hold [start, end): the kernel, its bss and early allocations. */
static bool linux_check_memory(const struct guest_memory *mem, const char *path, uint64_t start,
			       uint64_t end, GError **error)
{
	uint64_t need_mib = (end + MIB - 1) / MIB;

	if (guest_memory_ptr(mem, start, end - start))
		return true;
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
		    "the kernel '%s' needs at least %" PRIu64 " MiB of memory; use --memory %" PRIu64 "M or more",
		    path, need_mib, need_mib);
	return false;
}

/* A debug message the first time only: loading repeats on every reset. */
static void linux_note_guest_decompress(const char *path, const char *why)
{
	static gint said;

	if (g_atomic_int_compare_and_exchange(&said, 0, 1))
		log_debug("kernel '%s': %s; the kernel decompresses itself in the guest", path, why);
}

/*
 * Unpacks the payload on the host into *vmlinux.  Returns true with
 * *unpacked false when the payload is one to leave to the guest: none, or a
 * compression we do not know or cannot unpack.  A payload we can unpack but
 * that turns out damaged is an error, with the way out in its message.
 */
static bool linux_unpack(const struct linux_image *img, struct vmlinux *vmlinux, bool *unpacked,
			 GError **error)
{
	enum loader_compression format;
	g_autofree char *why = NULL;
	int64_t start_us = g_get_monotonic_time();
	uint8_t *elf;
	size_t elf_size;

	*unpacked = false;
	if (!img->payload) {
		linux_note_guest_decompress(img->path, "its header describes no payload inside the file");
		return true;
	}
	format = loader_compression_detect(img->payload, img->payload_size);
	if (!loader_compression_supported(format)) {
		const uint8_t *p = img->payload;

		why = format == LOADER_COMPRESSION_UNKNOWN ?
		      g_strdup_printf("its payload starts with %02x %02x %02x %02x, no compression vessel-vmm knows",
				      p[0], img->payload_size > 1 ? p[1] : 0,
				      img->payload_size > 2 ? p[2] : 0, img->payload_size > 3 ? p[3] : 0) :
		      g_strdup_printf("vessel-vmm does not unpack %s payloads", loader_compression_name(format));
		linux_note_guest_decompress(img->path, why);
		return true;
	}

	/*
	 * The kernel build makes init_size cover the unpacked ELF
	 * (arch/x86/boot/header.S, INIT_SIZE), and the caller has checked
	 * that init_size fits in guest RAM: the bound for the output.
	 */
	elf = loader_unpack_cached(img->path, format, img->payload, img->payload_size,
				   img->hdr.init_size, &elf_size, error);
	if (!elf || !loader_vmlinux_parse(img->path, elf, elf_size, vmlinux, error))
		return false;

	log_debug("kernel '%s': unpacked its %s payload, %zu to %zu bytes, in %.0f ms",
		  img->path, loader_compression_name(format), img->payload_size, elf_size,
		  (g_get_monotonic_time() - start_us) / 1000.0);
	for (unsigned int i = 0; i < vmlinux->segments->len; i++) {
		const struct vmlinux_segment *seg = &g_array_index(vmlinux->segments, struct vmlinux_segment, i);

		log_debug("kernel segment %u: [0x%08" PRIx64 ", 0x%08" PRIx64 "), 0x%" PRIx64 " bytes from the file, 0x%" PRIx64 " zeroed",
			  i, seg->paddr, seg->paddr + seg->memsz, seg->filesz, seg->memsz - seg->filesz);
	}
	log_debug("kernel entry (startup_64): 0x%08" PRIx64 "; no KASLR", vmlinux->entry);
	*unpacked = true;
	return true;
}

static bool linux_check_cmdline(const struct linux_image *img, const char *cmdline, GError **error)
{
	size_t len = strlen(cmdline);

	/* boot.rst, "cmdline_size": the maximum length without the NUL. */
	if (len > img->hdr.cmdline_size) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "the kernel command line is too long: %zu bytes, and '%s' accepts at most %u; shorten it",
			    len, img->path, img->hdr.cmdline_size);
		return false;
	}
	if (len + 1 > LAYOUT_CMDLINE_MAX) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "the kernel command line is too long: %zu bytes, and vessel-vmm passes at most %llu; shorten it",
			    len, LAYOUT_CMDLINE_MAX - 1);
		return false;
	}
	return true;
}

/*
 * boot.rst, "initrd_addr_max" and "mem=": the initrd goes as high as it can,
 * below the kernel's limit and the end of low RAM, and above everything the
 * kernel occupies while it decompresses.
 */
static bool linux_place_initrd(const struct guest_memory *mem, const struct linux_image *img,
			       const char *initrd_path, uint64_t initrd_size, uint64_t kernel_end,
			       uint64_t *initrd_addr, GError **error)
{
	uint64_t addr_max = img->hdr.initrd_addr_max ? img->hdr.initrd_addr_max : LINUX_INITRD_ADDR_MAX_OLD;
	uint64_t low_end = guest_memory_low_end(mem);
	uint64_t limit = MIN(addr_max + 1, low_end);

	if (initrd_size <= limit) {
		uint64_t addr = (limit - initrd_size) & ~(PAGE_SIZE - 1);

		if (addr >= kernel_end) {
			*initrd_addr = addr;
			return true;
		}
	}
	if (limit < low_end) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "initrd '%s' (%" PRIu64 " MiB) does not fit below %" PRIu64 " MiB, the highest address kernel '%s' accepts for it; use a smaller initrd",
			    initrd_path, (initrd_size + MIB - 1) / MIB, limit / MIB, img->path);
		return false;
	}
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
		    "initrd '%s' (%" PRIu64 " MiB) does not fit in guest memory below %" PRIu64 " MiB next to the kernel; use a larger --memory",
		    initrd_path, (initrd_size + MIB - 1) / MIB, limit / MIB);
	return false;
}

/* include/uapi/linux/screen_info.h: the fields a VESA linear framebuffer fills. */
#define SCREEN_INFO_ISVGA	0x0f
#define SCREEN_INFO_LFB_WIDTH	0x12
#define SCREEN_INFO_LFB_HEIGHT	0x14
#define SCREEN_INFO_LFB_DEPTH	0x16
#define SCREEN_INFO_LFB_BASE	0x18
#define SCREEN_INFO_LFB_SIZE	0x1c	/* in 64 KiB units for VIDEO_TYPE_VLFB */
#define SCREEN_INFO_LINELENGTH	0x24
#define SCREEN_INFO_RED_SIZE	0x26	/* then red_pos, green size/pos, blue, rsvd */
#define SCREEN_INFO_CAPABILITIES 0x36
#define SCREEN_INFO_EXT_LFB_BASE 0x3a
#define VIDEO_TYPE_VLFB		0x23
#define VIDEO_CAPABILITY_64BIT_BASE 0x2

static void put_le(uint8_t *p, uint64_t value, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(value >> (8 * i));
}

/* A 32-bpp x8r8g8b8 linear framebuffer, as sysfb_simplefb matches it. */
static void linux_write_screen_info(uint8_t *si, const struct boot_framebuffer *fb)
{
	static const uint8_t channels[8] = { 8, 16, 8, 8, 8, 0, 0, 0 };	/* size, pos: R G B X */

	si[SCREEN_INFO_ISVGA] = VIDEO_TYPE_VLFB;
	put_le(si + SCREEN_INFO_LFB_WIDTH, fb->width, 2);
	put_le(si + SCREEN_INFO_LFB_HEIGHT, fb->height, 2);
	put_le(si + SCREEN_INFO_LFB_DEPTH, 32, 2);
	put_le(si + SCREEN_INFO_LFB_BASE, (uint32_t)fb->base, 4);
	put_le(si + SCREEN_INFO_LFB_SIZE, fb->size_bytes >> 16, 4);
	put_le(si + SCREEN_INFO_LINELENGTH, fb->stride_bytes, 2);
	memcpy(si + SCREEN_INFO_RED_SIZE, channels, sizeof(channels));
	if (fb->base >> 32) {
		put_le(si + SCREEN_INFO_CAPABILITIES, VIDEO_CAPABILITY_64BIT_BASE, 4);
		put_le(si + SCREEN_INFO_EXT_LFB_BASE, fb->base >> 32, 4);
	}
}

/* boot.rst "64-bit Boot Protocol" and zero-page.rst. */
static bool linux_write_boot_params(const struct guest_memory *mem, const struct linux_image *img,
				    const uint8_t *image, uint64_t initrd_addr, uint64_t initrd_size,
				    const struct boot_framebuffer *fb, GError **error)
{
	g_autofree struct linux_boot_params *bp = g_new0(struct linux_boot_params, 1);
	struct e820_entry e820[E820_MAX_ENTRIES];
	unsigned int nr_e820 = e820_build(mem, e820);

	/* "...the setup header at offset 0x01f1 of kernel image on should be loaded into struct boot_params". */
	memcpy((uint8_t *)bp + LINUX_SETUP_HEADER_OFFSET, image + LINUX_SETUP_HEADER_OFFSET,
	       img->hdr_end - LINUX_SETUP_HEADER_OFFSET);

	bp->hdr.type_of_loader = LINUX_LOADER_UNDEFINED;
	bp->hdr.vid_mode = LINUX_VID_MODE_NORMAL;
	/*
	 * The heap is the real-mode setup code's, which the 64-bit entry skips;
	 * nothing after startup_64 reads heap_end_ptr.  Say there is none.
	 */
	bp->hdr.loadflags &= ~LINUX_CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0;
	/*
	 * KASLR_FLAG tells the kernel that its decompressor randomized where
	 * it runs (kaslr_enabled(); it then randomizes its memory regions
	 * too).  The decompressor clears it first thing and sets it only when
	 * it randomizes; a kernel unpacked here was not randomized.
	 */
	bp->hdr.loadflags &= ~LINUX_KASLR_FLAG;
	bp->hdr.cmd_line_ptr = (uint32_t)LAYOUT_CMDLINE_ADDR;
	bp->ext_cmd_line_ptr = (uint32_t)(LAYOUT_CMDLINE_ADDR >> 32);
	bp->hdr.ramdisk_image = (uint32_t)initrd_addr;
	bp->hdr.ramdisk_size = (uint32_t)initrd_size;
	bp->ext_ramdisk_image = (uint32_t)(initrd_addr >> 32);
	bp->ext_ramdisk_size = (uint32_t)(initrd_size >> 32);
	bp->hdr.hardware_subarch = LINUX_SUBARCH_PC;
	bp->hdr.hardware_subarch_data = 0;

	if (fb->size_bytes)
		linux_write_screen_info(bp->screen_info, fb);
	bp->e820_entries = (uint8_t)nr_e820;
	for (unsigned int i = 0; i < nr_e820; i++) {
		bp->e820_table[i].addr = e820[i].addr;
		bp->e820_table[i].size = e820[i].size;
		bp->e820_table[i].type = e820[i].type;
	}
	return loader_write_guest(mem, LAYOUT_BOOT_PARAMS_ADDR, bp, sizeof(*bp), "the Linux zero page", error);
}

/*
 * "64-bit Boot Protocol": the kernel, zero page and command line must be
 * identity mapped.  All of them lie below 4 GiB, so map exactly that with
 * 2 MiB pages: one PML4 entry, four PDPT entries, four full page directories.
 */
static bool linux_write_page_tables(const struct guest_memory *mem, GError **error)
{
	g_autofree uint64_t *tables = g_malloc0(LAYOUT_PAGE_TABLES_SIZE);
	uint64_t *pml4 = tables, *pdpt = tables + 512, *pd = tables + 1024;

	pml4[0] = (LAYOUT_PAGE_TABLES_ADDR + PAGE_SIZE) | PTE_PRESENT | PTE_WRITABLE;
	for (unsigned int i = 0; i < IDENTITY_MAP_PDS; i++)
		pdpt[i] = (LAYOUT_PAGE_TABLES_ADDR + (2 + i) * PAGE_SIZE) | PTE_PRESENT | PTE_WRITABLE;
	for (uint64_t i = 0; i < IDENTITY_MAP_PDS * 512; i++)
		pd[i] = (i << PAGE_2M_SHIFT) | PTE_PRESENT | PTE_WRITABLE | PTE_LARGE;
	return loader_write_guest(mem, LAYOUT_PAGE_TABLES_ADDR, tables, LAYOUT_PAGE_TABLES_SIZE,
				  "the boot page tables", error);
}

bool loader_linux_load(const struct guest_memory *mem, const struct boot_config *config,
		       const uint8_t *image, size_t size, struct boot_entry *entry,
		       GError **error)
{
	const char *cmdline = config->cmdline ? config->cmdline : "";
	g_autoptr(GBytes) initrd = NULL;
	struct x86_cpu_state *cpu = &entry->bsp;
	uint64_t kernel_end, initrd_addr = 0, initrd_size = 0;
	struct vmlinux vmlinux = { 0 };
	struct linux_image img;
	bool unpacked = false, ok = false;

	if (!loader_linux_probe(image, size)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is not a Linux bzImage: no boot signature 0xAA55 and \"HdrS\" at 0x1fe",
			    config->kernel_path);
		return false;
	}
	/* Everything is checked before the first byte goes into guest RAM. */
	if (!linux_parse(config->kernel_path, image, size, &img, error) ||
	    !linux_check_cmdline(&img, cmdline, error) ||
	    !linux_kernel_end(&img, &kernel_end, error) ||
	    !linux_check_memory(mem, img.path, LAYOUT_KERNEL_ADDR, kernel_end, error))
		return false;
	if (!config->guest_decompress) {
		if (!linux_unpack(&img, &vmlinux, &unpacked, error))
			goto out;
		/*
		 * Where the decompressor would have run the kernel: its ELF
		 * segments, bss included, and init_size from its start, which
		 * also covers what it allocates past _end (early page tables,
		 * brk) before it reads the memory map (boot.rst, "init_size").
		 */
		if (unpacked) {
			kernel_end = MAX(vmlinux.end, vmlinux.start + img.hdr.init_size);
			if (!linux_check_memory(mem, img.path, vmlinux.start, kernel_end, error))
				goto out;
		}
	}
	if (config->initrd_path) {
		initrd = loader_read_file(config->initrd_path, "initrd", error);
		if (!initrd)
			goto out;
		initrd_size = g_bytes_get_size(initrd);
		if (!linux_place_initrd(mem, &img, config->initrd_path, initrd_size, kernel_end,
					&initrd_addr, error))
			goto out;
	}

	if (unpacked ? !loader_vmlinux_write(mem, &vmlinux, error) :
		       !loader_write_guest(mem, LAYOUT_KERNEL_ADDR, img.kernel, img.kernel_size, "the kernel", error))
		goto out;
	if ((initrd && !loader_write_guest(mem, initrd_addr, g_bytes_get_data(initrd, NULL),
					   initrd_size, "the initrd", error)) ||
	    !loader_write_guest(mem, LAYOUT_CMDLINE_ADDR, cmdline, strlen(cmdline) + 1,
				"the kernel command line", error) ||
	    !linux_write_boot_params(mem, &img, image, initrd_addr, initrd_size, &config->framebuffer, error) ||
	    !linux_write_page_tables(mem, error))
		goto out;

	/* "64-bit Boot Protocol": 64-bit mode, paging on, interrupts off. */
	/* Power-on state first (FPU, MXCSR, PAT), then the protocol's entry state. */
	x86_cpu_state_init_reset(cpu);
	if (!loader_setup_boot_segments(mem, true, cpu, error))
		goto out;
	cpu->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
	cpu->cr3 = LAYOUT_PAGE_TABLES_ADDR;
	cpu->cr4 = X86_CR4_PAE;
	cpu->efer = X86_EFER_LME | X86_EFER_LMA;
	cpu->rflags = X86_RFLAGS_FIXED;
	/*
	 * The uncompressed kernel's startup_64 is entered in the same state
	 * as the bzImage's ("We come here either directly from a 64bit
	 * bootloader, or from arch/x86/boot/compressed/head_64.S"), and finds
	 * where it runs from RIP; at its link-time address nothing needs
	 * relocating (docs/boot.md).
	 */
	cpu->rip = unpacked ? vmlinux.entry : LAYOUT_KERNEL_ADDR + LINUX_ENTRY_64_OFFSET;
	cpu->gpr[X86_RSI] = LAYOUT_BOOT_PARAMS_ADDR;
	/*
	 * No stack: the protocol defines none and startup_64 sets its own
	 * before its first push.  Interrupts are off and there is no IDT yet.
	 */
	entry->protocol = "linux";
	ok = true;
out:
	loader_vmlinux_clear(&vmlinux);
	return ok;
}
