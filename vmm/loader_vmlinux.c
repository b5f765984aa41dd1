/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The uncompressed kernel inside a bzImage: an ELF64 x86-64 executable
 * (System V ABI, "ELF Header" and "Program Header"; the x86-64 psABI for
 * EM_X86_64).  The kernel's decompressor (arch/x86/boot/compressed/misc.c,
 * parse_elf()) copies each PT_LOAD segment to its p_paddr, relative to where
 * it runs; without KASLR that is the link-time address, which is what we do.
 *
 * The ELF comes out of a compressed stream in an untrusted file: every field
 * used below is checked before anything is copied.
 */
#include "loader_vmlinux.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "error.h"
#include "layout.h"

/* ELF64 (System V ABI, "ELF Header", "Program Header"). */
#define ELF_MAGIC		"\x7f" "ELF"
#define EI_CLASS		4
#define EI_DATA			5
#define EI_VERSION		6
#define ELFCLASS64		2
#define ELFDATA2LSB		1
#define EV_CURRENT		1
#define ET_EXEC			2
#define EM_X86_64		62
#define PN_XNUM			0xffff		/* the real count is elsewhere */
#define PT_LOAD			1

struct elf64_ehdr {
	uint8_t e_ident[16];
	uint16_t e_type;
	uint16_t e_machine;
	uint32_t e_version;
	uint64_t e_entry;
	uint64_t e_phoff;
	uint64_t e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize;
	uint16_t e_phentsize;
	uint16_t e_phnum;
	uint16_t e_shentsize;
	uint16_t e_shnum;
	uint16_t e_shstrndx;
};
G_STATIC_ASSERT(offsetof(struct elf64_ehdr, e_entry) == 24);
G_STATIC_ASSERT(offsetof(struct elf64_ehdr, e_phoff) == 32);
G_STATIC_ASSERT(offsetof(struct elf64_ehdr, e_ehsize) == 52);
G_STATIC_ASSERT(offsetof(struct elf64_ehdr, e_phnum) == 56);
G_STATIC_ASSERT(sizeof(struct elf64_ehdr) == 64);

struct elf64_phdr {
	uint32_t p_type;
	uint32_t p_flags;
	uint64_t p_offset;
	uint64_t p_vaddr;
	uint64_t p_paddr;
	uint64_t p_filesz;
	uint64_t p_memsz;
	uint64_t p_align;
};
G_STATIC_ASSERT(offsetof(struct elf64_phdr, p_offset) == 8);
G_STATIC_ASSERT(offsetof(struct elf64_phdr, p_paddr) == 24);
G_STATIC_ASSERT(offsetof(struct elf64_phdr, p_memsz) == 40);
G_STATIC_ASSERT(sizeof(struct elf64_phdr) == 56);

static bool vmlinux_bad(GError **error, const char *path, const char *format, ...) G_GNUC_PRINTF(3, 4);

/* "'X': the kernel inside it is damaged: <why>" */
static bool vmlinux_bad(GError **error, const char *path, const char *format, ...)
{
	g_autofree char *why = NULL;
	va_list ap;

	va_start(ap, format);
	why = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_BAD_IMAGE,
		    "'%s': the unpacked kernel (vmlinux) %s; the file looks damaged (--guest-decompress lets the kernel try to boot itself)",
		    path, why);
	return false;
}

static bool vmlinux_check_header(const char *path, const struct elf64_ehdr *eh, size_t size,
				 GError **error)
{
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_ident[EI_VERSION] != EV_CURRENT || eh->e_version != EV_CURRENT)
		return vmlinux_bad(error, path, "is not a little-endian ELF64 file (class %u, data %u, version %u)",
				   eh->e_ident[EI_CLASS], eh->e_ident[EI_DATA], eh->e_version);
	if (eh->e_type != ET_EXEC || eh->e_machine != EM_X86_64)
		return vmlinux_bad(error, path, "is not an x86-64 executable (ELF type %u, machine %u; expected ET_EXEC and EM_X86_64)",
				   eh->e_type, eh->e_machine);
	if (eh->e_ehsize < sizeof(*eh))
		return vmlinux_bad(error, path, "has an ELF header of %u bytes, less than the %zu of ELF64",
				   eh->e_ehsize, sizeof(*eh));
	if (eh->e_phentsize != sizeof(struct elf64_phdr) || eh->e_phnum == 0 || eh->e_phnum == PN_XNUM)
		return vmlinux_bad(error, path, "has no usable program headers (%u of %u bytes; ELF64 has %zu-byte entries)",
				   eh->e_phnum, eh->e_phentsize, sizeof(struct elf64_phdr));
	if (eh->e_phoff > size || (uint64_t)eh->e_phnum * eh->e_phentsize > size - eh->e_phoff)
		return vmlinux_bad(error, path, "is truncated: its %u program headers at offset 0x%" PRIx64 " end past its %zu bytes",
				   eh->e_phnum, eh->e_phoff, size);
	return true;
}

static gint segment_compare(gconstpointer a, gconstpointer b)
{
	const struct vmlinux_segment *sa = a, *sb = b;

	return sa->paddr < sb->paddr ? -1 : sa->paddr > sb->paddr;
}

/*
 * x86-64 kernels link their entry as a physical address
 * (arch/x86/kernel/vmlinux.lds.S: ENTRY(phys_startup_64)).  An entry that
 * is a virtual address instead is translated through its segment, as
 * kexec's ELF loader does.  Either way it must be code from the file.
 */
static bool vmlinux_find_entry(const char *path, const struct elf64_ehdr *eh, const uint8_t *elf,
			       struct vmlinux *kernel, GError **error)
{
	for (unsigned int i = 0; i < kernel->segments->len; i++) {
		const struct vmlinux_segment *seg = &g_array_index(kernel->segments, struct vmlinux_segment, i);

		if (eh->e_entry >= seg->paddr && eh->e_entry - seg->paddr < seg->filesz) {
			kernel->entry = eh->e_entry;
			return true;
		}
	}
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		struct elf64_phdr ph;

		memcpy(&ph, elf + eh->e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && eh->e_entry >= ph.p_vaddr && eh->e_entry - ph.p_vaddr < ph.p_filesz) {
			kernel->entry = ph.p_paddr + (eh->e_entry - ph.p_vaddr);
			return true;
		}
	}
	return vmlinux_bad(error, path, "has its entry point 0x%" PRIx64 " outside the code it loads",
			   eh->e_entry);
}

bool loader_vmlinux_parse(const char *path, uint8_t *elf, size_t size,
			  struct vmlinux *kernel, GError **error)
{
	struct elf64_ehdr eh;

	memset(kernel, 0, sizeof(*kernel));
	kernel->elf = elf;
	kernel->segments = g_array_new(FALSE, TRUE, sizeof(struct vmlinux_segment));
	if (size < sizeof(eh) || memcmp(elf, ELF_MAGIC, 4) != 0)
		return vmlinux_bad(error, path, "is not an ELF file (%zu bytes starting %02x %02x %02x %02x)",
				   size, size > 0 ? elf[0] : 0, size > 1 ? elf[1] : 0,
				   size > 2 ? elf[2] : 0, size > 3 ? elf[3] : 0);
	memcpy(&eh, elf, sizeof(eh));
	if (!vmlinux_check_header(path, &eh, size, error))
		return false;

	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		struct vmlinux_segment seg;
		struct elf64_phdr ph;

		memcpy(&ph, elf + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return vmlinux_bad(error, path, "segment %u has more file bytes (0x%" PRIx64 ") than memory bytes (0x%" PRIx64 ")",
					   i, ph.p_filesz, ph.p_memsz);
		if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset)
			return vmlinux_bad(error, path, "is truncated: segment %u needs bytes [0x%" PRIx64 ", 0x%" PRIx64 ") of its %zu",
					   i, ph.p_offset, ph.p_offset + MIN(ph.p_filesz, UINT64_MAX - ph.p_offset), size);
		/*
		 * Below 1 MiB are our boot data and the BIOS area; the PCI hole
		 * and everything above it are no place for a kernel that runs
		 * from an identity map of low RAM.
		 */
		if (ph.p_paddr < LAYOUT_HIGH_MEMORY_ADDR || ph.p_paddr >= LAYOUT_PCI_HOLE_START ||
		    ph.p_memsz > LAYOUT_PCI_HOLE_START - ph.p_paddr)
			return vmlinux_bad(error, path, "segment %u loads at physical 0x%" PRIx64 " (0x%" PRIx64 " bytes), outside [1 MiB, %llu MiB) where a kernel can run",
					   i, ph.p_paddr, ph.p_memsz, LAYOUT_PCI_HOLE_START >> 20);
		seg = (struct vmlinux_segment){
			.paddr = ph.p_paddr, .filesz = ph.p_filesz, .memsz = ph.p_memsz,
			.data = elf + ph.p_offset,
		};
		g_array_append_val(kernel->segments, seg);
	}
	if (!kernel->segments->len)
		return vmlinux_bad(error, path, "has no loadable segments");

	g_array_sort(kernel->segments, segment_compare);
	for (unsigned int i = 0; i < kernel->segments->len; i++) {
		const struct vmlinux_segment *seg = &g_array_index(kernel->segments, struct vmlinux_segment, i);

		if (i > 0 && seg->paddr < kernel->end)
			return vmlinux_bad(error, path, "has segments that overlap at physical 0x%" PRIx64,
					   seg->paddr);
		kernel->end = seg->paddr + seg->memsz;
	}
	kernel->start = g_array_index(kernel->segments, struct vmlinux_segment, 0).paddr;
	return vmlinux_find_entry(path, &eh, elf, kernel, error);
}

void loader_vmlinux_clear(struct vmlinux *kernel)
{
	if (kernel->segments)
		g_array_free(kernel->segments, TRUE);
	g_free(kernel->elf);
	memset(kernel, 0, sizeof(*kernel));
}

bool loader_vmlinux_write(const struct guest_memory *mem, const struct vmlinux *kernel,
			  GError **error)
{
	for (unsigned int i = 0; i < kernel->segments->len; i++) {
		const struct vmlinux_segment *seg = &g_array_index(kernel->segments, struct vmlinux_segment, i);
		uint8_t *dest = guest_memory_ptr(mem, seg->paddr, seg->memsz);

		if (!dest) {
			g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
				    "cannot place the kernel at guest address 0x%" PRIx64 " (0x%" PRIx64 " bytes): it is not guest RAM; use a larger --memory",
				    seg->paddr, seg->memsz);
			return false;
		}
		memcpy(dest, seg->data, seg->filesz);
		/* "Program Header": the bytes past p_filesz read as zero (the bss). */
		memset(dest + seg->filesz, 0, seg->memsz - seg->filesz);
	}
	return true;
}
