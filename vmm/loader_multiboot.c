/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Multiboot v1 kernels: Multiboot Specification 0.6.96, §3 ("The exact
 * definitions of Multiboot Specification").  The test guests use it; it also
 * boots small hobby kernels built for GRUB or QEMU -kernel.
 *
 * Everything read from the file is untrusted: offsets and sizes are checked
 * against the file, destinations against guest RAM and the ranges layout.h
 * keeps for the machine, before the first byte is written.
 */
#include "loader.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "e820.h"
#include "error.h"
#include "layout.h"

#define KIB				((uint64_t)1 << 10)
#define MIB				((uint64_t)1 << 20)
#define PAGE_SIZE			((uint64_t)0x1000)

/* §3.1.1 "The layout of Multiboot header". */
#define MULTIBOOT_HEADER_MAGIC		0x1badb002
#define MULTIBOOT_SEARCH_LIMIT		8192	/* header lies within these bytes */
#define MULTIBOOT_HEADER_ALIGN		4
/* §3.1.2 "The magic fields of Multiboot header": flags. */
#define MULTIBOOT_PAGE_ALIGN		(1u << 0)
#define MULTIBOOT_MEMORY_INFO		(1u << 1)
#define MULTIBOOT_VIDEO_MODE		(1u << 2)
#define MULTIBOOT_AOUT_KLUDGE		(1u << 16)
/* Bits 0-15 are requirements: a loader that does not know one must refuse. */
#define MULTIBOOT_REQUIRED_MASK		0xffffu
#define MULTIBOOT_HONOURED		(MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)

/* §3.2 "Machine state". */
#define MULTIBOOT_BOOTLOADER_MAGIC	0x2badb002

/* §3.3 "Boot information format": flags. */
#define MULTIBOOT_INFO_MEMORY		(1u << 0)
#define MULTIBOOT_INFO_CMDLINE		(1u << 2)
#define MULTIBOOT_INFO_MODS		(1u << 3)
#define MULTIBOOT_INFO_MEM_MAP		(1u << 6)
#define MULTIBOOT_INFO_BOOT_LOADER_NAME	(1u << 9)

#define MULTIBOOT_LOADER_NAME		"vessel-vmm"

/* §3.1.1: the address fields are valid with flag bit 16, video with bit 2. */
struct multiboot_header {
	uint32_t magic;
	uint32_t flags;
	uint32_t checksum;
	uint32_t header_addr;
	uint32_t load_addr;
	uint32_t load_end_addr;
	uint32_t bss_end_addr;
	uint32_t entry_addr;
	uint32_t mode_type;
	uint32_t width;
	uint32_t height;
	uint32_t depth;
};
G_STATIC_ASSERT(offsetof(struct multiboot_header, header_addr) == 12);
G_STATIC_ASSERT(offsetof(struct multiboot_header, entry_addr) == 28);
G_STATIC_ASSERT(offsetof(struct multiboot_header, mode_type) == 32);
G_STATIC_ASSERT(sizeof(struct multiboot_header) == 48);
#define MULTIBOOT_HEADER_MIN_SIZE	offsetof(struct multiboot_header, header_addr)
#define MULTIBOOT_HEADER_AOUT_SIZE	offsetof(struct multiboot_header, mode_type)

/* §3.3: the information structure EBX points to. */
struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;
	uint32_t mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info;
	uint32_t vbe_mode_info;
	uint16_t vbe_mode;
	uint16_t vbe_interface_seg;
	uint16_t vbe_interface_off;
	uint16_t vbe_interface_len;
	uint64_t framebuffer_addr;
	uint32_t framebuffer_pitch;
	uint32_t framebuffer_width;
	uint32_t framebuffer_height;
	uint8_t framebuffer_bpp;
	uint8_t framebuffer_type;
	uint8_t color_info[6];
} __attribute__((packed));
G_STATIC_ASSERT(offsetof(struct multiboot_info, cmdline) == 16);
G_STATIC_ASSERT(offsetof(struct multiboot_info, mods_addr) == 24);
G_STATIC_ASSERT(offsetof(struct multiboot_info, mmap_length) == 44);
G_STATIC_ASSERT(offsetof(struct multiboot_info, boot_loader_name) == 64);
G_STATIC_ASSERT(offsetof(struct multiboot_info, vbe_mode) == 80);
G_STATIC_ASSERT(offsetof(struct multiboot_info, framebuffer_addr) == 88);
G_STATIC_ASSERT(offsetof(struct multiboot_info, framebuffer_bpp) == 108);
G_STATIC_ASSERT(sizeof(struct multiboot_info) == 116);

/* §3.3, "mmap_*": `size` counts the bytes after itself (20 here). */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
} __attribute__((packed));
G_STATIC_ASSERT(sizeof(struct multiboot_mmap_entry) == 24);

/* §3.3, "mods_*": mod_end is exclusive, as GRUB and QEMU fill it. */
struct multiboot_module {
	uint32_t mod_start;
	uint32_t mod_end;
	uint32_t string;
	uint32_t reserved;
};
G_STATIC_ASSERT(sizeof(struct multiboot_module) == 16);

/* ELF32 (System V ABI, "ELF Header" and "Program Header"). */
#define ELF_MAGIC_SIZE		4
#define EI_CLASS		4
#define EI_DATA			5
#define ELFCLASS32		1
#define ELFCLASS64		2
#define ELFDATA2LSB		1
#define ET_EXEC			2
#define EM_386			3
#define PT_LOAD			1

struct elf32_ehdr {
	uint8_t e_ident[16];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint32_t e_entry;
	uint32_t e_phoff;
	uint32_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};
G_STATIC_ASSERT(offsetof(struct elf32_ehdr, e_entry) == 24);
G_STATIC_ASSERT(offsetof(struct elf32_ehdr, e_phoff) == 28);
G_STATIC_ASSERT(offsetof(struct elf32_ehdr, e_phentsize) == 42);
G_STATIC_ASSERT(offsetof(struct elf32_ehdr, e_phnum) == 44);
G_STATIC_ASSERT(sizeof(struct elf32_ehdr) == 52);

struct elf32_phdr {
	uint32_t p_type;
	uint32_t p_offset;
	uint32_t p_vaddr;
	uint32_t p_paddr;
	uint32_t p_filesz;
	uint32_t p_memsz;
	uint32_t p_flags;
	uint32_t p_align;
};
G_STATIC_ASSERT(offsetof(struct elf32_phdr, p_paddr) == 12);
G_STATIC_ASSERT(offsetof(struct elf32_phdr, p_memsz) == 20);
G_STATIC_ASSERT(sizeof(struct elf32_phdr) == 32);

/* One range of the kernel: filesz bytes from the file, then zeroes to memsz. */
struct multiboot_segment {
	char name[24];			/* "segment 2", for messages */
	uint64_t dest;			/* guest-physical */
	uint64_t vaddr;			/* where the kernel thinks it is */
	const uint8_t *src;
	uint64_t filesz;
	uint64_t memsz;
};

struct multiboot_kernel {
	const char *path;
	GArray *segments;		/* of struct multiboot_segment */
	uint64_t entry;
	uint64_t end;			/* one past the highest loaded byte */
};

static uint32_t read_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * §3.1.1: the header is 32-bit aligned within the first 8192 bytes.  Returns
 * true with *offset at the first one whose checksum is right; otherwise
 * *offset is the first magic seen (or SIZE_MAX if there is none).
 */
static bool multiboot_find_header(const uint8_t *image, size_t size, size_t *offset)
{
	size_t limit = MIN(size, MULTIBOOT_SEARCH_LIMIT);

	*offset = SIZE_MAX;
	for (size_t off = 0; off + MULTIBOOT_HEADER_MIN_SIZE <= limit; off += MULTIBOOT_HEADER_ALIGN) {
		uint32_t magic = read_u32(image + off);

		if (magic != MULTIBOOT_HEADER_MAGIC)
			continue;
		if ((uint32_t)(magic + read_u32(image + off + 4) + read_u32(image + off + 8)) == 0) {
			*offset = off;
			return true;
		}
		if (*offset == SIZE_MAX)
			*offset = off;
	}
	return false;
}

bool loader_multiboot_probe(const uint8_t *image, size_t size)
{
	size_t offset;

	return multiboot_find_header(image, size, &offset) || offset != SIZE_MAX;
}

static bool multiboot_check_flags(const char *path, uint32_t flags, GError **error)
{
	uint32_t unknown = flags & MULTIBOOT_REQUIRED_MASK & ~MULTIBOOT_HONOURED;

	if (!unknown)
		return true;
	if (unknown & MULTIBOOT_VIDEO_MODE) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' asks for a video mode (multiboot header flag bit 2), which vessel-vmm does not support yet; "
			    "clear that flag and use the text console or serial port",
			    path);
		return false;
	}
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
		    "'%s' requires multiboot header flag bit %d, which vessel-vmm does not know; "
		    "it honours bits 0 (page-aligned modules), 1 (memory information) and 16 (address fields)",
		    path, __builtin_ctz(unknown));
	return false;
}

static void multiboot_add_segment(struct multiboot_kernel *kernel, const char *name, uint64_t dest,
				  uint64_t vaddr, const uint8_t *src, uint64_t filesz, uint64_t memsz)
{
	struct multiboot_segment seg = {
		.dest = dest, .vaddr = vaddr, .src = filesz ? src : NULL,
		.filesz = filesz, .memsz = memsz,
	};

	g_strlcpy(seg.name, name, sizeof(seg.name));
	g_array_append_val(kernel->segments, seg);
}

/* §3.1.3 "The address fields of Multiboot header" (the "a.out kludge"). */
static bool multiboot_parse_aout(struct multiboot_kernel *kernel, const uint8_t *image, size_t size,
				 size_t header_offset, const struct multiboot_header *mh, GError **error)
{
	uint64_t load_offset, load_size, mem_size;

	if (mh->load_addr > mh->header_addr ||
	    mh->header_addr - mh->load_addr > header_offset) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s': multiboot load_addr 0x%08x and header_addr 0x%08x would start loading before the beginning of the file",
			    kernel->path, mh->load_addr, mh->header_addr);
		return false;
	}
	load_offset = header_offset - (mh->header_addr - mh->load_addr);
	if (mh->load_end_addr == 0) {
		/* "If this field is zero, the boot loader assumes that the text and data segments occupy the whole OS image file." */
		load_size = size - load_offset;
	} else if (mh->load_end_addr < mh->load_addr) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s': multiboot load_end_addr 0x%08x is below load_addr 0x%08x",
			    kernel->path, mh->load_end_addr, mh->load_addr);
		return false;
	} else {
		load_size = mh->load_end_addr - mh->load_addr;
		if (load_size > size - load_offset) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
				    "'%s' is truncated: its multiboot header loads %" PRIu64 " bytes from file offset 0x%" PRIx64 ", but the file has %zu bytes",
				    kernel->path, load_size, load_offset, size);
			return false;
		}
	}
	mem_size = load_size;
	if (mh->bss_end_addr) {
		if (mh->bss_end_addr < mh->load_addr + load_size) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
				    "'%s': multiboot bss_end_addr 0x%08x is below the end of the loaded data 0x%08" PRIx64,
				    kernel->path, mh->bss_end_addr, mh->load_addr + load_size);
			return false;
		}
		mem_size = mh->bss_end_addr - (uint64_t)mh->load_addr;
	}
	multiboot_add_segment(kernel, "the image", mh->load_addr, mh->load_addr,
			      image + load_offset, load_size, mem_size);
	kernel->entry = mh->entry_addr;
	return true;
}

static bool multiboot_parse_elf32(struct multiboot_kernel *kernel, const uint8_t *image, size_t size,
				  GError **error)
{
	struct elf32_ehdr eh;

	if (size < sizeof(eh)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is truncated: its ELF header is cut off", kernel->path);
		return false;
	}
	memcpy(&eh, image, sizeof(eh));
	if (eh.e_ident[EI_CLASS] == ELFCLASS64) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is an ELF64 file with a multiboot header, but multiboot v1 kernels must be ELF32; "
			    "convert it with 'objcopy -O elf32-i386' or set the header's address fields (flag bit 16)",
			    kernel->path);
		return false;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS32 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is not a little-endian ELF32 file (class %u, data %u)",
			    kernel->path, eh.e_ident[EI_CLASS], eh.e_ident[EI_DATA]);
		return false;
	}
	if (eh.e_type != ET_EXEC || eh.e_machine != EM_386) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is not an i386 executable (ELF type %u, machine %u; expected ET_EXEC and EM_386): link it as a static executable",
			    kernel->path, eh.e_type, eh.e_machine);
		return false;
	}
	if (eh.e_phnum && (eh.e_phentsize < sizeof(struct elf32_phdr) ||
			   eh.e_phoff > size ||
			   (uint64_t)eh.e_phnum * eh.e_phentsize > size - eh.e_phoff)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' is truncated or damaged: its %u program headers (%u bytes each at offset 0x%x) do not fit in the file",
			    kernel->path, eh.e_phnum, eh.e_phentsize, eh.e_phoff);
		return false;
	}

	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		g_autofree char *name = g_strdup_printf("segment %u", i);
		struct elf32_phdr ph;

		memcpy(&ph, image + eh.e_phoff + (size_t)i * eh.e_phentsize, sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
				    "'%s' is damaged: ELF %s has more file bytes (%u) than memory bytes (%u)",
				    kernel->path, name, ph.p_filesz, ph.p_memsz);
			return false;
		}
		if (ph.p_filesz && (ph.p_offset > size || ph.p_filesz > size - ph.p_offset)) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
				    "'%s' is truncated: ELF %s needs file bytes [0x%x, 0x%" PRIx64 "), but the file has %zu bytes",
				    kernel->path, name, ph.p_offset, (uint64_t)ph.p_offset + ph.p_filesz, size);
			return false;
		}
		/* §3.1: the loader uses physical addresses; p_paddr is the one. */
		multiboot_add_segment(kernel, name, ph.p_paddr, ph.p_vaddr, image + ph.p_offset,
				      ph.p_filesz, ph.p_memsz);
	}
	if (!kernel->segments->len) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' has no loadable ELF segments", kernel->path);
		return false;
	}

	/*
	 * A kernel linked to run at a high virtual address gives a virtual
	 * e_entry; translate it through the segment containing it, as GRUB does,
	 * since paging is off at entry.
	 */
	kernel->entry = eh.e_entry;
	for (unsigned int i = 0; i < kernel->segments->len; i++) {
		const struct multiboot_segment *seg = &g_array_index(kernel->segments, struct multiboot_segment, i);

		if (eh.e_entry >= seg->vaddr && eh.e_entry - seg->vaddr < seg->memsz) {
			kernel->entry = seg->dest + (eh.e_entry - seg->vaddr);
			break;
		}
	}
	return true;
}

static bool ranges_overlap(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end)
{
	return a_start < b_end && b_start < a_end;
}

/* The ranges a kernel may never load into: our boot data, the BIOS holes. */
static bool multiboot_check_destination(const struct guest_memory *mem, const char *path,
					const struct multiboot_segment *seg, GError **error)
{
	uint64_t start = seg->dest, end = seg->dest + seg->memsz;

	if (ranges_overlap(start, end, LAYOUT_BOOT_GDT_ADDR, LAYOUT_BOOT_DATA_END)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s': %s loads at [0x%08" PRIx64 ", 0x%08" PRIx64 "), over vessel-vmm's boot data at [0x%08llx, 0x%08llx); "
			    "link the kernel at 0x100000 (1 MiB) or above",
			    path, seg->name, start, end, LAYOUT_BOOT_GDT_ADDR, LAYOUT_BOOT_DATA_END);
		return false;
	}
	if (ranges_overlap(start, end, LAYOUT_EBDA_ADDR, LAYOUT_HIGH_MEMORY_ADDR)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s': %s loads at [0x%08" PRIx64 ", 0x%08" PRIx64 "), over the reserved BIOS and VGA area [0x%08llx, 0x%08llx); "
			    "link the kernel at 0x100000 (1 MiB) or above",
			    path, seg->name, start, end, LAYOUT_EBDA_ADDR, LAYOUT_HIGH_MEMORY_ADDR);
		return false;
	}
	if (!guest_memory_ptr(mem, start, seg->memsz)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s': %s loads at [0x%08" PRIx64 ", 0x%08" PRIx64 "), outside guest RAM, which ends at 0x%08" PRIx64 " below 4 GiB; "
			    "use a larger --memory or link the kernel lower",
			    path, seg->name, start, end, guest_memory_low_end(mem));
		return false;
	}
	return true;
}

static bool multiboot_check_kernel(const struct guest_memory *mem, struct multiboot_kernel *kernel,
				   GError **error)
{
	bool entry_loaded = false;

	kernel->end = 0;
	for (unsigned int i = 0; i < kernel->segments->len; i++) {
		const struct multiboot_segment *seg = &g_array_index(kernel->segments, struct multiboot_segment, i);

		if (!multiboot_check_destination(mem, kernel->path, seg, error))
			return false;
		kernel->end = MAX(kernel->end, seg->dest + seg->memsz);
		if (kernel->entry >= seg->dest && kernel->entry - seg->dest < seg->memsz)
			entry_loaded = true;
	}
	if (!entry_loaded) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s': the entry point 0x%08" PRIx64 " is outside everything the kernel loads",
			    kernel->path, kernel->entry);
		return false;
	}
	return true;
}

/*
 * Module 0 (the initrd) goes page-aligned (§3.1.2, flag bit 0) after the
 * highest byte of the kernel, stepping over our boot data and the BIOS area
 * when the kernel sits low.
 */
static bool multiboot_place_module(const struct guest_memory *mem, const char *initrd_path,
				   uint64_t kernel_end, uint64_t size, uint64_t *addr, GError **error)
{
	uint64_t start = (kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint64_t low_end = guest_memory_low_end(mem);

	if (ranges_overlap(start, start + size, LAYOUT_BOOT_GDT_ADDR, LAYOUT_BOOT_DATA_END))
		start = LAYOUT_BOOT_DATA_END;
	if (ranges_overlap(start, start + size, LAYOUT_EBDA_ADDR, LAYOUT_HIGH_MEMORY_ADDR))
		start = LAYOUT_HIGH_MEMORY_ADDR;
	if (start > low_end || size > low_end - start) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "initrd '%s' (%" PRIu64 " MiB) does not fit in guest memory below %" PRIu64 " MiB after the kernel; use a larger --memory",
			    initrd_path, (size + MIB - 1) / MIB, low_end / MIB);
		return false;
	}
	*addr = start;
	return true;
}

/* §3.3, with the command line at LAYOUT_CMDLINE_ADDR and the rest packed after the info. */
struct multiboot_info_area {
	uint8_t *buf;			/* LAYOUT_MULTIBOOT_INFO_SIZE bytes */
	size_t used;
};

static bool multiboot_info_alloc(struct multiboot_info_area *area, size_t len, size_t align,
				 size_t *offset)
{
	size_t start = (area->used + align - 1) & ~(align - 1);

	if (start > LAYOUT_MULTIBOOT_INFO_SIZE || len > LAYOUT_MULTIBOOT_INFO_SIZE - start)
		return false;
	*offset = start;
	area->used = start + len;
	return true;
}

static bool multiboot_info_add(struct multiboot_info_area *area, const void *data, size_t len,
			       size_t align, uint32_t *guest_addr)
{
	size_t offset;

	if (!multiboot_info_alloc(area, len, align, &offset))
		return false;
	memcpy(area->buf + offset, data, len);
	*guest_addr = (uint32_t)(LAYOUT_MULTIBOOT_INFO_ADDR + offset);
	return true;
}

static bool multiboot_write_info(const struct guest_memory *mem, const struct boot_config *config,
				 uint64_t module_addr, uint64_t module_size, GError **error)
{
	g_autofree uint8_t *buf = g_malloc0(LAYOUT_MULTIBOOT_INFO_SIZE);
	struct multiboot_info_area area = { .buf = buf };
	struct multiboot_mmap_entry mmap[E820_MAX_ENTRIES];
	struct e820_entry e820[E820_MAX_ENTRIES];
	unsigned int nr_e820 = e820_build(mem, e820);
	struct multiboot_info info = { 0 };
	uint32_t mmap_addr = 0, loader_name_addr = 0;
	size_t info_offset;
	bool ok;

	ok = multiboot_info_alloc(&area, sizeof(info), 8, &info_offset);
	g_assert(ok && info_offset == 0);

	/*
	 * "mem_lower and mem_upper indicate the amount of lower and upper memory,
	 * in kilobytes": the e820 RAM at 0 and the RAM from 1 MiB up to the first
	 * hole, so both views of memory agree.
	 */
	info.flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MODS |
		     MULTIBOOT_INFO_MEM_MAP | MULTIBOOT_INFO_BOOT_LOADER_NAME;
	for (unsigned int i = 0; i < nr_e820; i++) {
		if (e820[i].type != E820_TYPE_RAM)
			continue;
		if (e820[i].addr == 0)
			info.mem_lower = (uint32_t)(e820[i].size / KIB);
		else if (e820[i].addr == LAYOUT_HIGH_MEMORY_ADDR)
			info.mem_upper = (uint32_t)MIN(e820[i].size / KIB, UINT32_MAX);
	}
	info.cmdline = (uint32_t)LAYOUT_CMDLINE_ADDR;

	for (unsigned int i = 0; i < nr_e820; i++) {
		mmap[i] = (struct multiboot_mmap_entry){
			.size = sizeof(mmap[i]) - sizeof(mmap[i].size),
			.base_addr = e820[i].addr, .length = e820[i].size, .type = e820[i].type,
		};
	}
	info.mmap_length = nr_e820 * sizeof(mmap[0]);
	ok = multiboot_info_add(&area, mmap, info.mmap_length, 8, &mmap_addr) &&
	     multiboot_info_add(&area, MULTIBOOT_LOADER_NAME, sizeof(MULTIBOOT_LOADER_NAME), 1,
				&loader_name_addr);
	info.mmap_addr = mmap_addr;
	info.boot_loader_name = loader_name_addr;

	if (ok && config->initrd_path) {
		struct multiboot_module module = {
			.mod_start = (uint32_t)module_addr,
			.mod_end = (uint32_t)(module_addr + module_size),
		};
		size_t module_offset;

		ok = multiboot_info_alloc(&area, sizeof(module), 4, &module_offset) &&
		     multiboot_info_add(&area, config->initrd_path, strlen(config->initrd_path) + 1, 1,
					&module.string);
		if (ok) {
			memcpy(area.buf + module_offset, &module, sizeof(module));
			info.mods_count = 1;
			info.mods_addr = (uint32_t)(LAYOUT_MULTIBOOT_INFO_ADDR + module_offset);
		}
	}
	if (!ok) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "the multiboot information does not fit in its %llu KiB: use a shorter initrd path",
			    LAYOUT_MULTIBOOT_INFO_SIZE / KIB);
		return false;
	}
	memcpy(area.buf + info_offset, &info, sizeof(info));
	return loader_write_guest(mem, LAYOUT_MULTIBOOT_INFO_ADDR, area.buf, area.used,
				  "the multiboot information", error);
}

/*
 * The kernel's command line starts with the kernel's path, as GRUB and QEMU
 * pass it ("/boot/kernel.elf console=ttyS0"); QEMU adds the space even when
 * there is no command line, we do not.
 */
static char *multiboot_cmdline(const struct boot_config *config, GError **error)
{
	g_autofree char *cmdline = NULL;
	size_t len;

	if (config->cmdline && *config->cmdline)
		cmdline = g_strconcat(config->kernel_path, " ", config->cmdline, NULL);
	else
		cmdline = g_strdup(config->kernel_path);
	len = strlen(cmdline);
	if (len + 1 > LAYOUT_CMDLINE_MAX) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "the kernel command line is too long: %zu bytes with the kernel path, and vessel-vmm passes at most %llu; shorten it",
			    len, LAYOUT_CMDLINE_MAX - 1);
		return NULL;
	}
	return g_steal_pointer(&cmdline);
}

static bool multiboot_write_kernel(const struct guest_memory *mem, const struct multiboot_kernel *kernel,
				   GError **error)
{
	for (unsigned int i = 0; i < kernel->segments->len; i++) {
		const struct multiboot_segment *seg = &g_array_index(kernel->segments, struct multiboot_segment, i);
		uint8_t *bss;

		if (!loader_write_guest(mem, seg->dest, seg->src, seg->filesz, "the kernel", error))
			return false;
		/* Checked to be RAM by multiboot_check_destination(). */
		bss = guest_memory_ptr(mem, seg->dest + seg->filesz, seg->memsz - seg->filesz);
		g_assert(bss || seg->memsz == seg->filesz);
		if (bss)
			memset(bss, 0, seg->memsz - seg->filesz);
	}
	return true;
}

bool loader_multiboot_load(const struct guest_memory *mem, const struct boot_config *config,
			   const uint8_t *image, size_t size, struct boot_entry *entry,
			   GError **error)
{
	g_autoptr(GArray) segments = g_array_new(FALSE, TRUE, sizeof(struct multiboot_segment));
	struct multiboot_kernel kernel = { .path = config->kernel_path, .segments = segments };
	struct x86_cpu_state *cpu = &entry->bsp;
	g_autoptr(GBytes) initrd = NULL;
	struct multiboot_header mh = { 0 };
	uint64_t module_addr = 0, module_size = 0;
	g_autofree char *cmdline = NULL;
	size_t header_offset, header_size;

	if (!multiboot_find_header(image, size, &header_offset)) {
		if (header_offset == SIZE_MAX) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
				    "'%s' has no multiboot header in its first %u bytes",
				    config->kernel_path, MULTIBOOT_SEARCH_LIMIT);
			return false;
		}
		memcpy(&mh, image + header_offset, MULTIBOOT_HEADER_MIN_SIZE);
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s': the multiboot header at offset 0x%zx has a bad checksum "
			    "(magic 0x%08x + flags 0x%08x + checksum 0x%08x must be 0 modulo 2^32)",
			    config->kernel_path, header_offset, mh.magic, mh.flags, mh.checksum);
		return false;
	}
	header_size = MIN(size - header_offset, sizeof(mh));
	memcpy(&mh, image + header_offset, header_size);
	if (!multiboot_check_flags(config->kernel_path, mh.flags, error))
		return false;

	/* §3.1.3: with bit 16 the address fields win over any executable format. */
	if (mh.flags & MULTIBOOT_AOUT_KLUDGE) {
		if (header_offset + MULTIBOOT_HEADER_AOUT_SIZE > MIN(size, MULTIBOOT_SEARCH_LIMIT)) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
				    "'%s': the multiboot header at offset 0x%zx is cut off before its address fields",
				    config->kernel_path, header_offset);
			return false;
		}
		if (!multiboot_parse_aout(&kernel, image, size, header_offset, &mh, error))
			return false;
	} else if (size < ELF_MAGIC_SIZE || memcmp(image, "\x7f" "ELF", ELF_MAGIC_SIZE) != 0) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
			    "'%s' has a multiboot header but is not an ELF file, and its header gives no load addresses (flag bit 16)",
			    config->kernel_path);
		return false;
	} else if (!multiboot_parse_elf32(&kernel, image, size, error)) {
		return false;
	}
	if (!multiboot_check_kernel(mem, &kernel, error))
		return false;

	cmdline = multiboot_cmdline(config, error);
	if (!cmdline)
		return false;
	if (config->initrd_path) {
		initrd = loader_read_file(config->initrd_path, "initrd", error);
		if (!initrd)
			return false;
		module_size = g_bytes_get_size(initrd);
		if (!multiboot_place_module(mem, config->initrd_path, kernel.end, module_size,
					    &module_addr, error))
			return false;
	}

	if (!multiboot_write_kernel(mem, &kernel, error) ||
	    (initrd && !loader_write_guest(mem, module_addr, g_bytes_get_data(initrd, NULL),
					   module_size, "the initrd", error)) ||
	    !loader_write_guest(mem, LAYOUT_CMDLINE_ADDR, cmdline, strlen(cmdline) + 1,
				"the kernel command line", error) ||
	    !multiboot_write_info(mem, config, module_addr, module_size, error))
		return false;

	/*
	 * §3.2 "Machine state": EAX magic, EBX info, flat 32-bit CS and data
	 * segments, PG off and PE on, IF and VM clear; everything else undefined,
	 * zero here.  A20 is always on in this machine.
	 */
	/* Power-on state first (FPU, MXCSR, PAT), then the protocol's entry state. */
	x86_cpu_state_init_reset(cpu);
	if (!loader_setup_boot_segments(mem, false, cpu, error))
		return false;
	cpu->cr0 = X86_CR0_PE | X86_CR0_ET;
	cpu->rflags = X86_RFLAGS_FIXED;
	cpu->rip = kernel.entry;
	cpu->gpr[X86_RAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	cpu->gpr[X86_RBX] = LAYOUT_MULTIBOOT_INFO_ADDR;
	entry->protocol = "multiboot";
	return true;
}
