/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Direct kernel boot: synthetic multiboot ELF32, a.out-kludge and bzImage
 * files are written to a temporary directory and loaded into a fresh guest.
 * Offsets here are typed in from the specs (Multiboot 0.6.96 §3, Linux
 * boot.rst and zero-page.rst, the System V ABI for ELF64), independently of
 * the loaders' structs.  bzImages with a compressed ELF64 "vmlinux" are
 * packed here with the same libraries' compressors.
 */
#include <bzlib.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <lz4.h>
#include <lzma.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "e820.h"
#include "error.h"
#include "guest_memory.h"
#include "layout.h"
#include "loader.h"

#define MIB (1ULL << 20)

static char *tmp_dir;

/* ---- little-endian helpers --------------------------------------------- */

static void put_u16(GByteArray *b, size_t off, uint16_t v) { memcpy(b->data + off, &v, sizeof(v)); }
static void put_u32(GByteArray *b, size_t off, uint32_t v) { memcpy(b->data + off, &v, sizeof(v)); }
static void put_u64(GByteArray *b, size_t off, uint64_t v) { memcpy(b->data + off, &v, sizeof(v)); }

static uint8_t guest_u8(const struct guest_memory *mem, uint64_t addr)
{
	uint8_t v = 0;

	g_assert_true(guest_memory_read(mem, addr, &v, sizeof(v)));
	return v;
}

static uint16_t guest_u16(const struct guest_memory *mem, uint64_t addr)
{
	uint16_t v = 0;

	g_assert_true(guest_memory_read(mem, addr, &v, sizeof(v)));
	return v;
}

static uint32_t guest_u32(const struct guest_memory *mem, uint64_t addr)
{
	uint32_t v = 0;

	g_assert_true(guest_memory_read(mem, addr, &v, sizeof(v)));
	return v;
}

static uint64_t guest_u64(const struct guest_memory *mem, uint64_t addr)
{
	uint64_t v = 0;

	g_assert_true(guest_memory_read(mem, addr, &v, sizeof(v)));
	return v;
}

static char *guest_string(const struct guest_memory *mem, uint64_t addr)
{
	GString *s = g_string_new(NULL);
	uint8_t c;

	while ((c = guest_u8(mem, addr++)) != 0)
		g_string_append_c(s, (char)c);
	return g_string_free(s, FALSE);
}

static GByteArray *new_image(size_t size)
{
	GByteArray *b = g_byte_array_sized_new((guint)size);

	g_byte_array_set_size(b, (guint)size);
	memset(b->data, 0, size);
	return b;
}

static char *write_file(const char *name, const void *data, size_t len)
{
	char *path = g_build_filename(tmp_dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, data, (gssize)len, &error));
	g_assert_no_error(error);
	return path;
}

static char *write_image(const char *name, GByteArray *b)
{
	return write_file(name, b->data, b->len);
}

static void guest_init(struct guest_memory *mem, uint64_t size)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(guest_memory_init(mem, size, &error));
	g_assert_no_error(error);
}

static void load_ok(const struct guest_memory *mem, const struct boot_config *config,
		    struct boot_entry *entry)
{
	g_autoptr(GError) error = NULL;

	if (!loader_load(mem, config, entry, &error))
		g_error("loading '%s' failed: %s", config->kernel_path, error->message);
}

static void load_fails(const struct guest_memory *mem, const struct boot_config *config,
		       int code, const char *fragment)
{
	g_autoptr(GError) error = NULL;
	struct boot_entry entry;

	g_assert_false(loader_load(mem, config, &entry, &error));
	g_assert_nonnull(error);
	g_test_message("expected error: %s", error->message);
	g_assert_error(error, VESSEL_ERROR, code);
	if (!strstr(error->message, fragment))
		g_test_fail_printf("error '%s' does not mention '%s'", error->message, fragment);
}

/* ---- checks shared by both protocols ----------------------------------- */

/* Decodes one 8-byte GDT descriptor (Intel SDM Vol. 3A §3.4.5). */
static void assert_flat_descriptor(const struct guest_memory *mem, const struct x86_cpu_state *cpu,
				   uint16_t selector, uint8_t type, bool code64)
{
	uint64_t d;

	g_assert_cmpuint(selector + 7, <=, cpu->gdt.limit);
	d = guest_u64(mem, cpu->gdt.base + selector);
	g_assert_cmphex((d & 0xffff) | ((d >> 32) & 0xf0000), ==, 0xfffff);	/* limit */
	g_assert_cmphex(((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000), ==, 0);	/* base */
	g_assert_cmpuint((d >> 40) & 0xf, ==, type);
	g_assert_cmpuint((d >> 44) & 1, ==, 1);		/* S: code/data */
	g_assert_cmpuint((d >> 45) & 3, ==, 0);		/* DPL */
	g_assert_cmpuint((d >> 47) & 1, ==, 1);		/* P */
	g_assert_cmpuint((d >> 53) & 1, ==, code64);	/* L */
	g_assert_cmpuint((d >> 54) & 1, ==, !code64);	/* D/B */
	g_assert_cmpuint((d >> 55) & 1, ==, 1);		/* G */
}

static void assert_flat_segment(const struct x86_segment *seg, uint16_t selector, uint8_t type,
				bool code64)
{
	g_assert_cmphex(seg->selector, ==, selector);
	g_assert_cmphex(seg->base, ==, 0);
	g_assert_cmphex(seg->limit, ==, 0xffffffff);
	g_assert_cmpuint(seg->type, ==, type);
	g_assert_true(seg->present && seg->s && seg->g && !seg->unusable);
	g_assert_cmpuint(seg->dpl, ==, 0);
	g_assert_cmpint(seg->l, ==, code64);
	g_assert_cmpint(seg->db, ==, !code64);
}

static void assert_boot_segments(const struct guest_memory *mem, const struct x86_cpu_state *cpu,
				 bool code64)
{
	const struct x86_segment *data[] = { &cpu->ds, &cpu->es, &cpu->fs, &cpu->gs, &cpu->ss };
	uint64_t tss_lo, tss_hi;

	g_assert_cmphex(cpu->gdt.base, ==, LAYOUT_BOOT_GDT_ADDR);
	assert_flat_segment(&cpu->cs, 0x10, 0xb, code64);
	assert_flat_descriptor(mem, cpu, 0x10, 0xb, code64);
	for (unsigned int i = 0; i < G_N_ELEMENTS(data); i++)
		assert_flat_segment(data[i], 0x18, 0x3, false);
	assert_flat_descriptor(mem, cpu, 0x18, 0x3, false);
	/* Selector 0x08 stays null, as in Linux's own boot GDT. */
	g_assert_cmphex(guest_u64(mem, cpu->gdt.base + 0x08), ==, 0);

	/* TR: a present busy TSS that the GDT describes the same way. */
	g_assert_cmpuint(cpu->tr.type, ==, 0xb);
	g_assert_true(cpu->tr.present && !cpu->tr.s && !cpu->tr.unusable);
	g_assert_cmpuint(cpu->tr.limit, >=, 0x67);
	g_assert_cmpuint(cpu->tr.selector + 15, <=, cpu->gdt.limit);
	tss_lo = guest_u64(mem, cpu->gdt.base + cpu->tr.selector);
	tss_hi = guest_u64(mem, cpu->gdt.base + cpu->tr.selector + 8);
	g_assert_cmphex(((tss_lo >> 16) & 0xffffff) | ((tss_lo >> 32) & 0xff000000) | (tss_hi << 32),
			==, cpu->tr.base);
	g_assert_cmpuint((tss_lo >> 40) & 0x1f, ==, 0xb);	/* S=0, type busy TSS */
	g_assert_cmpuint((tss_lo >> 47) & 1, ==, 1);
	g_assert_cmphex((tss_lo & 0xffff) | ((tss_lo >> 32) & 0xf0000), ==, cpu->tr.limit);
	g_assert_nonnull(guest_memory_ptr(mem, cpu->tr.base, cpu->tr.limit + 1));
	/* I/O map base beyond the limit: no I/O permission bitmap (SDM §20.5.2). */
	g_assert_cmpuint(guest_u16(mem, cpu->tr.base + 0x66), >, cpu->tr.limit);
	g_assert_true(cpu->ldt.unusable);
	/* The GDT and TSS stay clear of the zero page. */
	g_assert_cmpuint(cpu->gdt.base + cpu->gdt.limit + 1, <=, LAYOUT_BOOT_PARAMS_ADDR);
	g_assert_cmpuint(cpu->tr.base + cpu->tr.limit + 1, <=, LAYOUT_BOOT_PARAMS_ADDR);
}

/* ---- multiboot ---------------------------------------------------------- */

/*
 * A minimal multiboot ELF32 kernel:
 *   0x0000  ELF header, two program headers at 0x34
 *   0x1000  segment 0 (0x1000 bytes -> 0x100000): multiboot header, then code
 *   0x2000  segment 1 (0x800 bytes -> 0x104000, memsz 0x3000: 0x2800 of bss)
 */
#define MB_SEG0_OFF	0x1000
#define MB_SEG0_ADDR	0x100000
#define MB_SEG0_SIZE	0x1000
#define MB_SEG1_OFF	0x2000
#define MB_SEG1_ADDR	0x104000
#define MB_SEG1_FILESZ	0x800
#define MB_SEG1_MEMSZ	0x3000
#define MB_ENTRY	(MB_SEG0_ADDR + 0x10)
#define MB_PHDR(i)	(0x34 + 32 * (i))

static uint8_t mb_seg0_byte(size_t i) { return (uint8_t)(i * 7 + 1); }
static uint8_t mb_seg1_byte(size_t i) { return (uint8_t)(0xa5 ^ (i * 13)); }

static void mb_put_header(GByteArray *b, size_t off, uint32_t flags)
{
	put_u32(b, off, 0x1badb002);
	put_u32(b, off + 4, flags);
	put_u32(b, off + 8, (uint32_t)-(0x1badb002u + flags));
}

static void mb_put_phdr(GByteArray *b, unsigned int i, uint32_t offset, uint32_t vaddr,
			uint32_t paddr, uint32_t filesz, uint32_t memsz)
{
	put_u32(b, MB_PHDR(i), 1);		/* PT_LOAD */
	put_u32(b, MB_PHDR(i) + 4, offset);
	put_u32(b, MB_PHDR(i) + 8, vaddr);
	put_u32(b, MB_PHDR(i) + 12, paddr);
	put_u32(b, MB_PHDR(i) + 16, filesz);
	put_u32(b, MB_PHDR(i) + 20, memsz);
	put_u32(b, MB_PHDR(i) + 24, 7);
	put_u32(b, MB_PHDR(i) + 28, 0x1000);
}

static GByteArray *mb_elf_image(uint32_t vaddr_offset)
{
	GByteArray *b = new_image(MB_SEG1_OFF + MB_SEG1_FILESZ);
	static const uint8_t ident[16] = { 0x7f, 'E', 'L', 'F', 1 /* 32 */, 1 /* LE */, 1 };

	for (size_t i = 0; i < MB_SEG0_SIZE; i++)
		b->data[MB_SEG0_OFF + i] = mb_seg0_byte(i);
	for (size_t i = 0; i < MB_SEG1_FILESZ; i++)
		b->data[MB_SEG1_OFF + i] = mb_seg1_byte(i);
	memcpy(b->data, ident, sizeof(ident));
	put_u16(b, 16, 2);			/* ET_EXEC */
	put_u16(b, 18, 3);			/* EM_386 */
	put_u32(b, 20, 1);
	put_u32(b, 24, MB_ENTRY + vaddr_offset);
	put_u32(b, 28, 0x34);			/* e_phoff */
	put_u16(b, 40, 52);
	put_u16(b, 42, 32);			/* e_phentsize */
	put_u16(b, 44, 2);			/* e_phnum */
	mb_put_phdr(b, 0, MB_SEG0_OFF, MB_SEG0_ADDR + vaddr_offset, MB_SEG0_ADDR,
		    MB_SEG0_SIZE, MB_SEG0_SIZE);
	mb_put_phdr(b, 1, MB_SEG1_OFF, MB_SEG1_ADDR + vaddr_offset, MB_SEG1_ADDR,
		    MB_SEG1_FILESZ, MB_SEG1_MEMSZ);
	mb_put_header(b, MB_SEG0_OFF, 0x3);	/* page-align modules, memory info */
	return b;
}

static void assert_multiboot_entry(const struct guest_memory *mem, const struct boot_entry *entry,
				   uint64_t rip)
{
	const struct x86_cpu_state *cpu = &entry->bsp;

	g_assert_cmpstr(entry->protocol, ==, "multiboot");
	g_assert_cmphex(cpu->rip, ==, rip);
	g_assert_cmphex(cpu->gpr[X86_RAX], ==, 0x2badb002);
	g_assert_cmphex(cpu->gpr[X86_RBX], ==, LAYOUT_MULTIBOOT_INFO_ADDR);
	for (unsigned int r = 0; r < X86_NR_GPRS; r++)
		if (r != X86_RAX && r != X86_RBX)
			g_assert_cmphex(cpu->gpr[r], ==, 0);
	g_assert_cmphex(cpu->rflags, ==, 0x2);		/* IF=0, VM=0 */
	g_assert_true(cpu->cr0 & X86_CR0_PE);
	g_assert_false(cpu->cr0 & X86_CR0_PG);
	g_assert_cmphex(cpu->cr0 & ~X86_CR0_ET, ==, X86_CR0_PE);
	g_assert_cmphex(cpu->cr4, ==, 0);
	g_assert_cmphex(cpu->efer, ==, 0);
	assert_boot_segments(mem, cpu, false);
}

static void assert_multiboot_mmap(const struct guest_memory *mem, uint64_t info)
{
	struct e820_entry e820[E820_MAX_ENTRIES];
	unsigned int n = e820_build(mem, e820);
	uint32_t mmap_addr = guest_u32(mem, info + 48);
	uint32_t mmap_length = guest_u32(mem, info + 44);

	g_assert_cmpuint(mmap_length, ==, n * 24);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = mmap_addr + i * 24;

		g_assert_cmpuint(guest_u32(mem, e), ==, 20);
		g_assert_cmphex(guest_u64(mem, e + 4), ==, e820[i].addr);
		g_assert_cmphex(guest_u64(mem, e + 12), ==, e820[i].size);
		g_assert_cmpuint(guest_u32(mem, e + 20), ==, e820[i].type);
	}
	g_assert_cmpuint(mmap_addr, >=, LAYOUT_MULTIBOOT_INFO_ADDR);
	g_assert_cmpuint(mmap_addr + mmap_length, <=, LAYOUT_MULTIBOOT_INFO_ADDR + LAYOUT_MULTIBOOT_INFO_SIZE);
}

static void test_multiboot_elf(void)
{
	g_autoptr(GByteArray) image = mb_elf_image(0);
	g_autofree char *path = write_image("mb.elf", image);
	g_autofree uint8_t *initrd = g_malloc(10000);
	g_autofree char *initrd_path = NULL;
	g_autofree char *cmdline = NULL, *expected_cmdline = NULL, *name = NULL, *mod_string = NULL;
	struct boot_config config = { .kernel_path = path, .cmdline = "console=ttyS0 debug" };
	struct boot_entry entry;
	struct guest_memory mem;
	uint64_t info = LAYOUT_MULTIBOOT_INFO_ADDR;
	uint32_t mods, mod_start, mod_end;
	uint8_t *bss;

	for (size_t i = 0; i < 10000; i++)
		initrd[i] = (uint8_t)(i % 251);
	initrd_path = write_file("mb-initrd", initrd, 10000);
	config.initrd_path = initrd_path;

	guest_init(&mem, 64 * MIB);
	/* Dirty the bss first: the loader must clear it, not rely on fresh RAM. */
	bss = guest_memory_ptr(&mem, MB_SEG1_ADDR, MB_SEG1_MEMSZ);
	memset(bss, 0xcc, MB_SEG1_MEMSZ);
	load_ok(&mem, &config, &entry);

	for (size_t i = 0; i < MB_SEG0_SIZE; i += 0x80)
		if (i >= 12)
			g_assert_cmphex(guest_u8(&mem, MB_SEG0_ADDR + i), ==, mb_seg0_byte(i));
	g_assert_cmphex(guest_u32(&mem, MB_SEG0_ADDR), ==, 0x1badb002);
	for (size_t i = 0; i < MB_SEG1_FILESZ; i++)
		g_assert_cmphex(bss[i], ==, mb_seg1_byte(i));
	for (size_t i = MB_SEG1_FILESZ; i < MB_SEG1_MEMSZ; i++)
		g_assert_cmphex(bss[i], ==, 0);
	/* Nothing between the segments was touched. */
	g_assert_cmphex(guest_u8(&mem, MB_SEG0_ADDR + MB_SEG0_SIZE), ==, 0);

	assert_multiboot_entry(&mem, &entry, MB_ENTRY);

	/* §3.3 boot information. */
	g_assert_cmphex(guest_u32(&mem, info), ==, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
	g_assert_cmpuint(guest_u32(&mem, info + 4), ==, 639);
	g_assert_cmpuint(guest_u32(&mem, info + 8), ==, (64 * MIB - MIB) / 1024);
	cmdline = guest_string(&mem, guest_u32(&mem, info + 16));
	expected_cmdline = g_strconcat(path, " console=ttyS0 debug", NULL);
	g_assert_cmpstr(cmdline, ==, expected_cmdline);
	name = guest_string(&mem, guest_u32(&mem, info + 64));
	g_assert_cmpstr(name, ==, "vessel-vmm");
	assert_multiboot_mmap(&mem, info);

	g_assert_cmpuint(guest_u32(&mem, info + 20), ==, 1);
	mods = guest_u32(&mem, info + 24);
	mod_start = guest_u32(&mem, mods);
	mod_end = guest_u32(&mem, mods + 4);
	/* Page-aligned, right after the highest kernel byte (the end of the bss). */
	g_assert_cmphex(mod_start, ==, MB_SEG1_ADDR + MB_SEG1_MEMSZ);
	g_assert_cmphex(mod_start & 0xfff, ==, 0);
	g_assert_cmphex(mod_end, ==, mod_start + 10000);
	g_assert_cmpmem(guest_memory_ptr(&mem, mod_start, 10000), 10000, initrd, 10000);
	mod_string = guest_string(&mem, guest_u32(&mem, mods + 8));
	g_assert_cmpstr(mod_string, ==, initrd_path);
	g_assert_cmpuint(guest_u32(&mem, mods + 12), ==, 0);
	guest_memory_destroy(&mem);
}

static void test_multiboot_minimal_info(void)
{
	g_autoptr(GByteArray) image = mb_elf_image(0);
	g_autofree char *path = write_image("mb-plain.elf", image);
	g_autofree char *cmdline = NULL;
	struct boot_config config = { .kernel_path = path };
	struct boot_entry entry;
	struct guest_memory mem;
	uint64_t info = LAYOUT_MULTIBOOT_INFO_ADDR;

	guest_init(&mem, 2 * MIB);	/* the smallest guest there is */
	load_ok(&mem, &config, &entry);
	/* Without a command line the kernel still gets its path, and no trailing space. */
	cmdline = guest_string(&mem, guest_u32(&mem, info + 16));
	g_assert_cmpstr(cmdline, ==, path);
	g_assert_cmpuint(guest_u32(&mem, info + 20), ==, 0);	/* no modules */
	g_assert_cmpuint(guest_u32(&mem, info + 4), ==, 639);
	g_assert_cmpuint(guest_u32(&mem, info + 8), ==, 1024);
	assert_multiboot_mmap(&mem, info);
	guest_memory_destroy(&mem);
}

/* A higher-half kernel: virtual addresses at 3 GiB, physical at 1 MiB. */
static void test_multiboot_virtual_entry(void)
{
	g_autoptr(GByteArray) image = mb_elf_image(0xc0000000);
	g_autofree char *path = write_image("mb-high.elf", image);
	struct boot_config config = { .kernel_path = path };
	struct boot_entry entry;
	struct guest_memory mem;

	guest_init(&mem, 16 * MIB);
	load_ok(&mem, &config, &entry);
	g_assert_cmphex(guest_u8(&mem, MB_SEG1_ADDR), ==, mb_seg1_byte(0));
	assert_multiboot_entry(&mem, &entry, MB_ENTRY);
	guest_memory_destroy(&mem);
}

/*
 * §3.1.3 address fields: a flat binary whose header sits at file offset
 * 0x40 and says it loads at 0x200000, 0x1000 bytes, bss up to 0x203000.
 * The file has 0x100 more bytes that must not be loaded.
 */
#define AOUT_LOAD_ADDR	0x200000
#define AOUT_LOAD_SIZE	0x1000
#define AOUT_BSS_END	0x203000
#define AOUT_ENTRY	0x200080

static GByteArray *aout_image(void)
{
	GByteArray *b = new_image(AOUT_LOAD_SIZE + 0x100);

	for (size_t i = 0; i < b->len; i++)
		b->data[i] = (uint8_t)(0x80 | i);
	mb_put_header(b, 0x40, (1u << 16) | (1u << 1));
	put_u32(b, 0x4c, AOUT_LOAD_ADDR + 0x40);	/* header_addr */
	put_u32(b, 0x50, AOUT_LOAD_ADDR);		/* load_addr */
	put_u32(b, 0x54, AOUT_LOAD_ADDR + AOUT_LOAD_SIZE);	/* load_end_addr */
	put_u32(b, 0x58, AOUT_BSS_END);			/* bss_end_addr */
	put_u32(b, 0x5c, AOUT_ENTRY);			/* entry_addr */
	return b;
}

static void test_multiboot_aout(void)
{
	g_autoptr(GByteArray) image = aout_image();
	g_autofree char *path = write_image("mb.bin", image);
	struct boot_config config = { .kernel_path = path, .cmdline = "x" };
	struct boot_entry entry;
	struct guest_memory mem;
	uint8_t *ram;

	guest_init(&mem, 16 * MIB);
	ram = guest_memory_ptr(&mem, AOUT_LOAD_ADDR, AOUT_BSS_END - AOUT_LOAD_ADDR);
	memset(ram, 0xcc, AOUT_BSS_END - AOUT_LOAD_ADDR);
	load_ok(&mem, &config, &entry);
	g_assert_cmpmem(ram, AOUT_LOAD_SIZE, image->data, AOUT_LOAD_SIZE);
	for (size_t i = AOUT_LOAD_SIZE; i < AOUT_BSS_END - AOUT_LOAD_ADDR; i++)
		g_assert_cmphex(ram[i], ==, 0);
	assert_multiboot_entry(&mem, &entry, AOUT_ENTRY);
	guest_memory_destroy(&mem);
}

static void test_multiboot_errors(void)
{
	struct boot_config config = { 0 };
	struct guest_memory mem;

	guest_init(&mem, 64 * MIB);

	{	/* bad checksum */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		put_u32(b, MB_SEG0_OFF + 8, 0x12345678);
		path = write_image("bad-checksum.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "bad checksum");
	}
	{	/* video mode: bit 2 */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		mb_put_header(b, MB_SEG0_OFF, 0x7);
		path = write_image("video.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "video mode (multiboot header flag bit 2)");
	}
	{	/* a required bit nobody knows */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		mb_put_header(b, MB_SEG0_OFF, 0x3 | (1u << 9));
		path = write_image("bit9.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "flag bit 9");
	}
	{	/* optional bits 17-31 are ignored */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;
		struct boot_entry entry;

		mb_put_header(b, MB_SEG0_OFF, 0x3 | (1u << 20));
		path = write_image("bit20.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_ok(&mem, &config, &entry);
	}
	{	/* ELF64 with a multiboot header */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		b->data[4] = 2;
		path = write_image("elf64.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "objcopy -O elf32-i386");
	}
	{	/* not EM_386 */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		put_u16(b, 18, 62);
		path = write_image("x86-64.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "EM_386");
	}
	{	/* segment beyond the end of RAM */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		put_u32(b, MB_PHDR(1) + 12, 64 * MIB - 0x1000);
		path = write_image("above-ram.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "[0x03fff000, 0x04002000), outside guest RAM");
	}
	{	/* segment in the PCI hole: no --memory helps, still a clear error */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		put_u32(b, MB_PHDR(1) + 12, 0xfffff000);
		path = write_image("wrap.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "outside guest RAM");
	}
	{	/* segment over our boot data (the multiboot info lives there) */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		put_u32(b, MB_PHDR(1) + 12, 0x2f000);
		path = write_image("boot-data.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "segment 1 loads at [0x0002f000, 0x00032000), over vessel-vmm's boot data");
	}
	{	/* bss reaching into the EBDA */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		put_u32(b, MB_PHDR(1) + 12, 0x9d000);
		path = write_image("ebda.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "reserved BIOS and VGA area");
	}
	{	/* p_filesz runs past the end of the file */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		put_u32(b, MB_PHDR(1) + 16, MB_SEG1_FILESZ + 1);
		path = write_image("truncated.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "is truncated: ELF segment 1");
	}
	{	/* p_offset near 4 GiB: offset + filesz must not wrap */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		put_u32(b, MB_PHDR(1) + 4, 0xfffffff0);
		path = write_image("offset-wrap.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "is truncated");
	}
	{	/* program headers beyond the file */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		put_u16(b, 44, 0xffff);
		path = write_image("phnum.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "program headers");
	}
	{	/* entry point in no segment */
		g_autoptr(GByteArray) b = mb_elf_image(0);
		g_autofree char *path = NULL;

		put_u32(b, 24, 0x300000);
		path = write_image("entry.elf", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "entry point 0x00300000");
	}
	{	/* a.out kludge: load_end_addr past the end of the file */
		g_autoptr(GByteArray) b = aout_image();
		g_autofree char *path = NULL;

		put_u32(b, 0x54, AOUT_LOAD_ADDR + 0x2000);
		path = write_image("aout-truncated.bin", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "is truncated");
	}
	{	/* a.out kludge: load_addr so low that loading starts before the file */
		g_autoptr(GByteArray) b = aout_image();
		g_autofree char *path = NULL;

		put_u32(b, 0x50, AOUT_LOAD_ADDR - 0x1000);
		path = write_image("aout-before.bin", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "before the beginning of the file");
	}
	{	/* a multiboot header in a file that is neither ELF nor a.out-kludge */
		g_autoptr(GByteArray) b = aout_image();
		g_autofree char *path = NULL;

		mb_put_header(b, 0x40, 0x3);
		path = write_image("raw.bin", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "not an ELF file");
	}
	guest_memory_destroy(&mem);
}

static void test_multiboot_initrd_errors(void)
{
	g_autoptr(GByteArray) image = mb_elf_image(0);
	g_autofree char *path = write_image("mb-initrd.elf", image);
	g_autofree char *missing = g_build_filename(tmp_dir, "no-such-initrd", NULL);
	g_autofree uint8_t *big = g_malloc0(3 * MIB);
	g_autofree char *big_path = write_file("big-initrd", big, 3 * MIB);
	struct boot_config config = { .kernel_path = path, .initrd_path = missing };
	struct guest_memory mem;

	guest_init(&mem, 4 * MIB);
	load_fails(&mem, &config, VESSEL_ERROR_IO, "cannot open initrd");
	config.initrd_path = big_path;
	load_fails(&mem, &config, VESSEL_ERROR_INVALID_ARGUMENT, "(3 MiB) does not fit in guest memory below 4 MiB");
	guest_memory_destroy(&mem);
}

/* ---- Linux bzImage ------------------------------------------------------ */

#define BZ_SETUP_SECTS	4
#define BZ_SETUP_SIZE	((BZ_SETUP_SECTS + 1) * 512)
#define BZ_KERNEL_SIZE	0x3000

static uint8_t bz_kernel_byte(size_t i) { return (uint8_t)(i * 31 + 3); }

/*
 * A bzImage as far as the boot protocol can tell: header and a payload.  The
 * payload's first bytes (03 22 41 60) are no compression's magic, so these
 * images boot through the bzImage entry, as with --guest-decompress.
 */
static GByteArray *bz_image(uint16_t version, uint16_t xloadflags, uint32_t init_size)
{
	GByteArray *b = new_image(BZ_SETUP_SIZE + BZ_KERNEL_SIZE);

	for (size_t i = 0; i < BZ_KERNEL_SIZE; i++)
		b->data[BZ_SETUP_SIZE + i] = bz_kernel_byte(i);
	b->data[0x1f1] = BZ_SETUP_SECTS;
	put_u32(b, 0x1f4, BZ_KERNEL_SIZE / 16);		/* syssize */
	put_u16(b, 0x1fc, 0x0801);			/* root_dev, kept as is */
	put_u16(b, 0x1fe, 0xaa55);
	b->data[0x200] = 0xeb;				/* jmp, length of the header */
	b->data[0x201] = 0x26c - 0x202;
	memcpy(b->data + 0x202, "HdrS", 4);
	put_u16(b, 0x206, version);
	b->data[0x211] = 0x01;				/* LOADED_HIGH */
	put_u32(b, 0x214, 0x100000);			/* code32_start */
	put_u32(b, 0x22c, 0x7fffffff);			/* initrd_addr_max */
	put_u32(b, 0x230, 0x200000);			/* kernel_alignment */
	b->data[0x234] = 1;				/* relocatable */
	b->data[0x235] = 21;
	put_u16(b, 0x236, xloadflags);
	put_u32(b, 0x238, 2047);			/* cmdline_size */
	put_u32(b, 0x248, 0x100);			/* payload_offset */
	put_u32(b, 0x24c, 0x2000);			/* payload_length */
	put_u64(b, 0x258, 0x1000000);			/* pref_address */
	put_u32(b, 0x260, init_size);
	/* Setup code right after the header: must not reach the zero page. */
	memset(b->data + 0x26c, 0x90, 0x290 - 0x26c);
	return b;
}

/* Walks the 4-level page tables in guest memory like the MMU does. */
static bool translate(const struct guest_memory *mem, uint64_t cr3, uint64_t va, uint64_t *pa)
{
	uint64_t pml4e = guest_u64(mem, (cr3 & ~0xfffULL) + ((va >> 39) & 511) * 8);
	uint64_t pdpte, pde;

	if (!(pml4e & 1))
		return false;
	pdpte = guest_u64(mem, (pml4e & 0xffffffffff000ULL) + ((va >> 30) & 511) * 8);
	if (!(pdpte & 1) || (pdpte & 0x80))
		return false;
	pde = guest_u64(mem, (pdpte & 0xffffffffff000ULL) + ((va >> 21) & 511) * 8);
	if (!(pde & 1) || !(pde & 0x80) || !(pde & 2))
		return false;
	*pa = (pde & 0xfffffffe00000ULL) | (va & 0x1fffff);
	return true;
}

/* The 64-bit boot protocol's entry state, entering at `rip`. */
static void assert_linux_entry_at(const struct guest_memory *mem, const struct boot_entry *entry,
				  uint64_t rip)
{
	const struct x86_cpu_state *cpu = &entry->bsp;
	uint64_t pa;

	g_assert_cmpstr(entry->protocol, ==, "linux");
	g_assert_cmphex(cpu->rip, ==, rip);
	g_assert_cmphex(cpu->gpr[X86_RSI], ==, LAYOUT_BOOT_PARAMS_ADDR);
	g_assert_cmphex(cpu->rflags, ==, 0x2);
	g_assert_cmphex(cpu->cr0 & (X86_CR0_PE | X86_CR0_PG), ==, X86_CR0_PE | X86_CR0_PG);
	g_assert_cmphex(cpu->cr0 & ~(X86_CR0_ET | X86_CR0_NE), ==, X86_CR0_PE | X86_CR0_PG);
	g_assert_cmphex(cpu->cr4, ==, X86_CR4_PAE);
	g_assert_cmphex(cpu->efer, ==, X86_EFER_LME | X86_EFER_LMA);
	g_assert_cmphex(cpu->cr3, ==, LAYOUT_PAGE_TABLES_ADDR);
	assert_boot_segments(mem, cpu, true);

	/* Identity map of 0..4 GiB, every 2 MiB page, nothing above. */
	for (uint64_t va = 0; va < (4ULL << 30); va += 2 * MIB) {
		g_assert_true(translate(mem, cpu->cr3, va + 0x1234, &pa));
		g_assert_cmphex(pa, ==, va + 0x1234);
	}
	g_assert_true(translate(mem, cpu->cr3, (4ULL << 30) - 1, &pa));
	g_assert_cmphex(pa, ==, (4ULL << 30) - 1);
	g_assert_false(translate(mem, cpu->cr3, 4ULL << 30, &pa));
	/* The tables themselves stay inside their layout slot. */
	g_assert_cmphex(guest_u64(mem, LAYOUT_PAGE_TABLES_ADDR) & ~0xfffULL, >=, LAYOUT_PAGE_TABLES_ADDR);
	g_assert_cmphex(guest_u64(mem, LAYOUT_PAGE_TABLES_ADDR) & 0xffffffffff000ULL, <,
			LAYOUT_PAGE_TABLES_ADDR + LAYOUT_PAGE_TABLES_SIZE);
}

static void assert_zero_page_e820(const struct guest_memory *mem)
{
	struct e820_entry e820[E820_MAX_ENTRIES];
	unsigned int n = e820_build(mem, e820);
	uint64_t bp = LAYOUT_BOOT_PARAMS_ADDR;

	g_assert_cmpuint(guest_u8(mem, bp + 0x1e8), ==, n);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t e = bp + 0x2d0 + i * 20;

		g_assert_cmphex(guest_u64(mem, e), ==, e820[i].addr);
		g_assert_cmphex(guest_u64(mem, e + 8), ==, e820[i].size);
		g_assert_cmpuint(guest_u32(mem, e + 16), ==, e820[i].type);
	}
	g_assert_cmphex(guest_u64(mem, bp + 0x2d0 + n * 20), ==, 0);
}

static void test_linux_load(void)
{
	g_autoptr(GByteArray) image = bz_image(0x020f, 0x3, 8 * MIB);
	g_autofree char *path = write_image("bzImage", image);
	g_autofree uint8_t *initrd = g_malloc(5000);
	g_autofree char *initrd_path = NULL, *cmdline = NULL;
	struct boot_config config = { .kernel_path = path, .cmdline = "console=ttyS0 quiet" };
	uint64_t bp = LAYOUT_BOOT_PARAMS_ADDR, initrd_addr;
	struct boot_entry entry;
	struct guest_memory mem;

	for (size_t i = 0; i < 5000; i++)
		initrd[i] = (uint8_t)(i ^ 0x3c);
	initrd_path = write_file("linux-initrd", initrd, 5000);
	config.initrd_path = initrd_path;

	guest_init(&mem, 64 * MIB);
	/* Stale data in the zero page must not survive: it starts zeroed. */
	memset(guest_memory_ptr(&mem, bp, 0x1000), 0xee, 0x1000);
	load_ok(&mem, &config, &entry);

	/* The protected-mode kernel, from file offset (setup_sects + 1) * 512, at 1 MiB. */
	g_assert_cmpmem(guest_memory_ptr(&mem, LAYOUT_KERNEL_ADDR, BZ_KERNEL_SIZE), BZ_KERNEL_SIZE,
			image->data + BZ_SETUP_SIZE, BZ_KERNEL_SIZE);

	/* Setup header copied, loader fields filled (boot.rst). */
	g_assert_cmphex(guest_u16(&mem, bp + 0x1fe), ==, 0xaa55);
	g_assert_cmphex(guest_u32(&mem, bp + 0x202), ==, 0x53726448);
	g_assert_cmphex(guest_u16(&mem, bp + 0x206), ==, 0x020f);
	g_assert_cmphex(guest_u16(&mem, bp + 0x1fc), ==, 0x0801);
	g_assert_cmphex(guest_u32(&mem, bp + 0x260), ==, 8 * MIB);
	g_assert_cmphex(guest_u64(&mem, bp + 0x258), ==, 0x1000000);
	g_assert_cmphex(guest_u8(&mem, bp + 0x210), ==, 0xff);		/* type_of_loader */
	g_assert_cmphex(guest_u16(&mem, bp + 0x1fa), ==, 0xffff);	/* vid_mode */
	g_assert_cmphex(guest_u8(&mem, bp + 0x211) & 0x81, ==, 0x01);	/* LOADED_HIGH, no heap */
	g_assert_cmphex(guest_u32(&mem, bp + 0x23c), ==, 0);		/* hardware_subarch */
	g_assert_cmphex(guest_u8(&mem, bp + 0x1ef), ==, 0);		/* sentinel */
	g_assert_cmphex(guest_u8(&mem, bp + 0x26c), ==, 0);		/* header ends at 0x26c */
	g_assert_cmphex(guest_u8(&mem, bp + 0x28f), ==, 0);
	g_assert_cmphex(guest_u8(&mem, bp + 0x100), ==, 0);		/* zeroed, not stale */
	g_assert_cmphex(guest_u8(&mem, bp + 0xfff), ==, 0);

	g_assert_cmphex(guest_u32(&mem, bp + 0x228), ==, LAYOUT_CMDLINE_ADDR);
	g_assert_cmphex(guest_u32(&mem, bp + 0xc8), ==, 0);
	cmdline = guest_string(&mem, guest_u32(&mem, bp + 0x228));
	g_assert_cmpstr(cmdline, ==, "console=ttyS0 quiet");

	/* The initrd as high as it goes, page aligned, above the kernel's init_size range. */
	initrd_addr = guest_u32(&mem, bp + 0x218);
	g_assert_cmphex(initrd_addr, ==, (64 * MIB - 5000) & ~0xfffULL);
	g_assert_cmpuint(guest_u32(&mem, bp + 0x21c), ==, 5000);
	g_assert_cmpuint(guest_u32(&mem, bp + 0xc0), ==, 0);
	g_assert_cmpuint(guest_u32(&mem, bp + 0xc4), ==, 0);
	g_assert_cmpuint(initrd_addr, >=, 0x1000000 + 8 * MIB);
	g_assert_cmpmem(guest_memory_ptr(&mem, initrd_addr, 5000), 5000, initrd, 5000);

	assert_zero_page_e820(&mem);
	assert_linux_entry_at(&mem, &entry, LAYOUT_KERNEL_ADDR + 0x200);
	guest_memory_destroy(&mem);
}

static void test_linux_no_initrd(void)
{
	g_autoptr(GByteArray) image = bz_image(0x020c, 0x1, 4 * MIB);
	g_autofree char *path = write_image("bzImage-plain", image);
	struct boot_config config = { .kernel_path = path };
	uint64_t bp = LAYOUT_BOOT_PARAMS_ADDR;
	struct boot_entry entry;
	struct guest_memory mem;

	guest_init(&mem, 32 * MIB);
	load_ok(&mem, &config, &entry);
	g_assert_cmphex(guest_u32(&mem, bp + 0x218), ==, 0);
	g_assert_cmphex(guest_u32(&mem, bp + 0x21c), ==, 0);
	/* An empty command line is still a valid pointer to "". */
	g_assert_cmphex(guest_u32(&mem, bp + 0x228), ==, LAYOUT_CMDLINE_ADDR);
	g_assert_cmphex(guest_u8(&mem, LAYOUT_CMDLINE_ADDR), ==, 0);
	assert_zero_page_e820(&mem);
	assert_linux_entry_at(&mem, &entry, LAYOUT_KERNEL_ADDR + 0x200);
	guest_memory_destroy(&mem);
}

/* More than 3 GiB: the zero page's e820 must list RAM above 4 GiB too. */
static void test_linux_high_memory(void)
{
	g_autoptr(GByteArray) image = bz_image(0x020f, 0x3, 8 * MIB);
	g_autofree char *path = write_image("bzImage-high", image);
	g_autoptr(GError) error = NULL;
	struct boot_config config = { .kernel_path = path };
	struct boot_entry entry;
	struct guest_memory mem;

	if (!guest_memory_init(&mem, 4ULL << 30, &error)) {
		g_test_skip(error->message);
		return;
	}
	load_ok(&mem, &config, &entry);
	g_assert_cmpuint(guest_memory_high_size(&mem), >, 0);
	assert_zero_page_e820(&mem);
	guest_memory_destroy(&mem);
}

static void test_linux_errors(void)
{
	struct boot_config config = { 0 };
	struct guest_memory mem;

	guest_init(&mem, 64 * MIB);
	{
		g_autoptr(GByteArray) b = bz_image(0x020a, 0x1, 4 * MIB);
		g_autofree char *path = write_image("bz-2.10", b);

		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE,
			   "uses Linux boot protocol 2.10; vessel-vmm needs 2.12 or newer");
	}
	{
		g_autoptr(GByteArray) b = bz_image(0x020f, 0x0, 4 * MIB);
		g_autofree char *path = write_image("bz-32bit", b);

		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "32-bit Linux kernel");
	}
	{
		g_autoptr(GByteArray) b = bz_image(0x020f, 0x1, 4 * MIB);
		g_autofree char *path = NULL;

		put_u32(b, 0x1f4, BZ_KERNEL_SIZE / 16 + 1);
		path = write_image("bz-truncated", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "is truncated");
	}
	{
		g_autoptr(GByteArray) b = bz_image(0x020f, 0x1, 4 * MIB);
		g_autofree char *path = NULL;
		struct boot_entry entry;

		put_u32(b, 0x238, 16);	/* cmdline_size: 16 characters plus the NUL */
		path = write_image("bz-short-cmdline", b);
		config = (struct boot_config){ .kernel_path = path, .cmdline = "0123456789abcdef" };
		load_ok(&mem, &config, &entry);
		config.cmdline = "0123456789abcdefg";
		load_fails(&mem, &config, VESSEL_ERROR_INVALID_ARGUMENT,
			   "command line is too long: 17 bytes");
	}
	{
		g_autoptr(GByteArray) b = bz_image(0x020f, 0x1, 4 * MIB);
		g_autofree char *path = NULL;
		g_autofree char *huge = g_strnfill(LAYOUT_CMDLINE_MAX, 'x');

		put_u32(b, 0x238, 0xffffffff);
		path = write_image("bz-long-cmdline", b);
		config = (struct boot_config){ .kernel_path = path, .cmdline = huge };
		load_fails(&mem, &config, VESSEL_ERROR_INVALID_ARGUMENT, "vessel-vmm passes at most 65535");
	}
	{
		/* Runs at pref_address 16 MiB and needs 64 MiB from there: 80 MiB. */
		g_autoptr(GByteArray) b = bz_image(0x020f, 0x1, 64 * MIB);
		g_autofree char *path = write_image("bz-big", b);

		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_INVALID_ARGUMENT,
			   "needs at least 80 MiB of memory; use --memory 80M or more");
	}
	{
		/* Not relocatable, init_size rounded to a partial MiB: 16 MiB + 40.5 MiB. */
		g_autoptr(GByteArray) b = bz_image(0x020f, 0x1, 40 * MIB + MIB / 2);
		g_autofree char *path = NULL;

		b->data[0x234] = 0;
		path = write_image("bz-fixed", b);
		config = (struct boot_config){ .kernel_path = path };
		{
			struct guest_memory small;

			guest_init(&small, 56 * MIB);
			load_fails(&small, &config, VESSEL_ERROR_INVALID_ARGUMENT, "needs at least 57 MiB");
			guest_memory_destroy(&small);
		}
	}
	{
		/* A pref_address no guest can satisfy must not overflow anything. */
		g_autoptr(GByteArray) b = bz_image(0x020f, 0x1, 64 * MIB);
		g_autofree char *path = NULL;

		put_u64(b, 0x258, UINT64_MAX - 0x1000);
		path = write_image("bz-pref-wrap", b);
		config = (struct boot_config){ .kernel_path = path };
		load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "more than any guest has");
	}
	guest_memory_destroy(&mem);
}

static void test_linux_initrd_errors(void)
{
	g_autoptr(GByteArray) image = bz_image(0x020f, 0x3, 8 * MIB);
	g_autofree char *path = write_image("bzImage-initrd", image);
	g_autofree char *missing = g_build_filename(tmp_dir, "missing-initrd", NULL);
	g_autofree uint8_t *big = g_malloc0(9 * MIB);
	g_autofree char *big_path = write_file("initrd-9m", big, 9 * MIB);
	struct boot_config config = { .kernel_path = path, .initrd_path = missing };
	struct boot_entry entry;
	struct guest_memory mem;

	/* The kernel occupies up to 16 + 8 = 24 MiB: 8 MiB are left in 32. */
	guest_init(&mem, 32 * MIB);
	load_fails(&mem, &config, VESSEL_ERROR_IO, "cannot open initrd '");
	config.initrd_path = big_path;
	load_fails(&mem, &config, VESSEL_ERROR_INVALID_ARGUMENT,
		   "(9 MiB) does not fit in guest memory below 32 MiB");
	guest_memory_destroy(&mem);

	guest_init(&mem, 34 * MIB);
	load_ok(&mem, &config, &entry);
	g_assert_cmphex(guest_u32(&mem, LAYOUT_BOOT_PARAMS_ADDR + 0x218), ==, 25 * MIB);
	guest_memory_destroy(&mem);

	/* initrd_addr_max below the end of RAM: a smaller initrd is the fix. */
	put_u32(image, 0x22c, 32 * MIB - 1);
	{
		g_autofree char *low_max = write_image("bzImage-initrd-max", image);

		config.kernel_path = low_max;
		guest_init(&mem, 64 * MIB);
		load_fails(&mem, &config, VESSEL_ERROR_INVALID_ARGUMENT, "use a smaller initrd");
		guest_memory_destroy(&mem);
	}
}

/* ---- Linux: the kernel unpacked on the host ----------------------------- */

/*
 * A small "vmlinux" laid out like Debian's (readelf -l): text linked at
 * virtual 0xffffffff81000000 and physical 16 MiB with a physical e_entry
 * (ENTRY(phys_startup_64)); data with a bss; a per-CPU segment linked at
 * virtual 0; a PT_NOTE and an empty PT_LOAD, both to be ignored.  The
 * relocation table the real payload carries after the ELF is stood in for
 * by VM_RELOCS_SIZE more bytes.
 */
#define VM_PHDR(i)	(0x40 + 56 * (i))
#define VM_NR_PHDRS	5
#define VM_TEXT_OFF	0x1000
#define VM_TEXT_ADDR	0x1000000ULL
#define VM_TEXT_SIZE	0x3000
#define VM_DATA_OFF	0x4000
#define VM_DATA_ADDR	0x1200000ULL
#define VM_DATA_FILESZ	0x1000
#define VM_DATA_MEMSZ	0x5000
#define VM_PERCPU_OFF	0x5000
#define VM_PERCPU_ADDR	(VM_DATA_ADDR + VM_DATA_MEMSZ)	/* adjacent is fine */
#define VM_PERCPU_SIZE	0x800
#define VM_END		(VM_PERCPU_ADDR + VM_PERCPU_SIZE)
#define VM_ELF_SIZE	0x6000
#define VM_RELOCS_SIZE	0x400
#define VM_START_KERNEL_MAP 0xffffffff80000000ULL	/* virtual = physical + this */
#define VM_INIT_SIZE	(8 * MIB)

static const char *const pack_formats[] = { "gzip", "bzip2", "lzma", "xz", "lz4", "zstd" };

static void vm_put_phdr(GByteArray *b, unsigned int i, uint32_t type, uint64_t offset,
			uint64_t vaddr, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	put_u32(b, VM_PHDR(i), type);
	put_u32(b, VM_PHDR(i) + 4, 7);			/* p_flags: RWX */
	put_u64(b, VM_PHDR(i) + 8, offset);
	put_u64(b, VM_PHDR(i) + 16, vaddr);
	put_u64(b, VM_PHDR(i) + 24, paddr);
	put_u64(b, VM_PHDR(i) + 32, filesz);
	put_u64(b, VM_PHDR(i) + 40, memsz);
	put_u64(b, VM_PHDR(i) + 48, 0x200000);		/* p_align */
}

static GByteArray *vm_elf(void)
{
	GByteArray *b = new_image(VM_ELF_SIZE + VM_RELOCS_SIZE);
	static const uint8_t ident[16] = { 0x7f, 'E', 'L', 'F', 2 /* 64 */, 1 /* LE */, 1 };

	for (size_t i = VM_TEXT_OFF; i < b->len; i++)
		b->data[i] = (uint8_t)(i * 13 + (i >> 8) + 7);
	memcpy(b->data, ident, sizeof(ident));
	put_u16(b, 16, 2);				/* ET_EXEC */
	put_u16(b, 18, 62);				/* EM_X86_64 */
	put_u32(b, 20, 1);				/* EV_CURRENT */
	put_u64(b, 24, VM_TEXT_ADDR);			/* e_entry, physical */
	put_u64(b, 32, VM_PHDR(0));			/* e_phoff */
	put_u16(b, 52, 64);				/* e_ehsize */
	put_u16(b, 54, 56);				/* e_phentsize */
	put_u16(b, 56, VM_NR_PHDRS);
	vm_put_phdr(b, 0, 1, VM_TEXT_OFF, VM_TEXT_ADDR + VM_START_KERNEL_MAP, VM_TEXT_ADDR,
		    VM_TEXT_SIZE, VM_TEXT_SIZE);
	vm_put_phdr(b, 1, 4, VM_TEXT_OFF + 0x100, VM_TEXT_ADDR + VM_START_KERNEL_MAP + 0x100,
		    VM_TEXT_ADDR + 0x100, 0x40, 0x40);	/* PT_NOTE */
	vm_put_phdr(b, 2, 1, VM_DATA_OFF, VM_DATA_ADDR + VM_START_KERNEL_MAP, VM_DATA_ADDR,
		    VM_DATA_FILESZ, VM_DATA_MEMSZ);
	vm_put_phdr(b, 3, 1, VM_PERCPU_OFF, 0, VM_PERCPU_ADDR, VM_PERCPU_SIZE, VM_PERCPU_SIZE);
	vm_put_phdr(b, 4, 1, 0, 0, 0, 0, 0);		/* nothing to load */
	return b;
}

static void append_le32(GByteArray *b, uint32_t v)
{
	uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	g_byte_array_append(b, le, sizeof(le));
}

/*
 * Compresses as the kernel build does (scripts/Makefile.lib): the stream,
 * then, for all but gzip (whose trailer already ends with the size), the
 * unpacked size as 4 little-endian bytes.  xz with the x86 BCJ filter and
 * CRC32 like scripts/xz_wrap.sh, zstd with its checksum like the zstd tool,
 * lz4 in the legacy format of "lz4 -l".
 */
static GByteArray *pack(const char *format, const uint8_t *data, size_t len)
{
	size_t cap = len + len / 2 + 4096;
	GByteArray *b = new_image(cap);
	size_t out_len = 0;

	if (!strcmp(format, "gzip")) {
		z_stream zs = { 0 };

		g_assert_cmpint(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), ==, Z_OK);
		zs.next_in = (Bytef *)data;
		zs.avail_in = (uInt)len;
		zs.next_out = b->data;
		zs.avail_out = (uInt)cap;
		g_assert_cmpint(deflate(&zs, Z_FINISH), ==, Z_STREAM_END);
		out_len = zs.total_out;
		deflateEnd(&zs);
	} else if (!strcmp(format, "bzip2")) {
		unsigned int n = (unsigned int)cap;

		g_assert_cmpint(BZ2_bzBuffToBuffCompress((char *)b->data, &n, (char *)data, (unsigned int)len, 9, 0, 0),
				==, BZ_OK);
		out_len = n;
	} else if (!strcmp(format, "lzma")) {
		lzma_stream strm = LZMA_STREAM_INIT;
		lzma_options_lzma options;
		lzma_ret ret;

		g_assert_false(lzma_lzma_preset(&options, 9));
		g_assert_cmpint(lzma_alone_encoder(&strm, &options), ==, LZMA_OK);
		strm.next_in = data;
		strm.avail_in = len;
		strm.next_out = b->data;
		strm.avail_out = cap;
		do {
			ret = lzma_code(&strm, LZMA_FINISH);
		} while (ret == LZMA_OK);
		g_assert_cmpint(ret, ==, LZMA_STREAM_END);
		out_len = strm.total_out;
		lzma_end(&strm);
	} else if (!strcmp(format, "xz")) {
		lzma_options_lzma options;
		lzma_filter filters[] = {
			{ .id = LZMA_FILTER_X86 },
			{ .id = LZMA_FILTER_LZMA2, .options = &options },
			{ .id = LZMA_VLI_UNKNOWN },
		};

		g_assert_false(lzma_lzma_preset(&options, 6));
		g_assert_cmpint(lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, data, len,
							  b->data, &out_len, cap), ==, LZMA_OK);
	} else if (!strcmp(format, "lz4")) {
		int n;

		g_assert_cmpuint(len, <=, 8 * MIB);	/* one legacy block */
		put_u32(b, 0, 0x184c2102);
		n = LZ4_compress_default((const char *)data, (char *)b->data + 8, (int)len, (int)cap - 8);
		g_assert_cmpint(n, >, 0);
		put_u32(b, 4, (uint32_t)n);
		out_len = 8 + (size_t)n;
	} else if (!strcmp(format, "zstd")) {
		ZSTD_CCtx *cctx = ZSTD_createCCtx();
		size_t n;

		g_assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 19)));
		g_assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
		n = ZSTD_compress2(cctx, b->data, cap, data, len);
		g_assert_false(ZSTD_isError(n));
		out_len = n;
		ZSTD_freeCCtx(cctx);
	} else {
		g_assert_not_reached();
	}
	g_byte_array_set_size(b, (guint)out_len);
	if (strcmp(format, "gzip"))
		append_le32(b, (uint32_t)len);
	return b;
}

/* bz_image() with `payload` after 0x3000 bytes of "decompressor". */
static GByteArray *bz_payload_image(const GByteArray *payload, uint32_t init_size)
{
	static const uint8_t zero[16];
	GByteArray *b = bz_image(0x020f, 0x3, init_size);

	put_u32(b, 0x248, BZ_KERNEL_SIZE);		/* payload_offset */
	put_u32(b, 0x24c, payload->len);		/* payload_length */
	g_byte_array_append(b, payload->data, payload->len);
	g_byte_array_append(b, zero, (16 - (b->len - BZ_SETUP_SIZE) % 16) % 16);
	put_u32(b, 0x1f4, (b->len - BZ_SETUP_SIZE) / 16);	/* syssize */
	return b;
}

static char *write_packed_kernel(const char *name, const char *format, const GByteArray *elf,
				 uint32_t init_size)
{
	g_autoptr(GByteArray) payload = pack(format, elf->data, elf->len);
	g_autoptr(GByteArray) image = bz_payload_image(payload, init_size);

	return write_image(name, image);
}

/* Every segment at its p_paddr, bss zeroed, and nothing in between touched. */
static void assert_vmlinux_loaded(const struct guest_memory *mem, const GByteArray *elf)
{
	g_assert_cmpmem(guest_memory_ptr(mem, VM_TEXT_ADDR, VM_TEXT_SIZE), VM_TEXT_SIZE,
			elf->data + VM_TEXT_OFF, VM_TEXT_SIZE);
	g_assert_cmpmem(guest_memory_ptr(mem, VM_DATA_ADDR, VM_DATA_FILESZ), VM_DATA_FILESZ,
			elf->data + VM_DATA_OFF, VM_DATA_FILESZ);
	for (uint64_t a = VM_DATA_ADDR + VM_DATA_FILESZ; a < VM_DATA_ADDR + VM_DATA_MEMSZ; a++)
		g_assert_cmphex(guest_u8(mem, a), ==, 0);
	g_assert_cmpmem(guest_memory_ptr(mem, VM_PERCPU_ADDR, VM_PERCPU_SIZE), VM_PERCPU_SIZE,
			elf->data + VM_PERCPU_OFF, VM_PERCPU_SIZE);
	g_assert_cmphex(guest_u8(mem, VM_TEXT_ADDR - 1), ==, 0xcc);
	g_assert_cmphex(guest_u8(mem, VM_TEXT_ADDR + VM_TEXT_SIZE), ==, 0xcc);
	g_assert_cmphex(guest_u8(mem, VM_DATA_ADDR - 1), ==, 0xcc);
	g_assert_cmphex(guest_u8(mem, VM_END), ==, 0xcc);
}

/* Stale bytes wherever a kernel could go, so that every write shows. */
static void dirty_kernel_area(const struct guest_memory *mem)
{
	memset(guest_memory_ptr(mem, LAYOUT_KERNEL_ADDR, 31 * MIB), 0xcc, 31 * MIB);
}

static void test_linux_unpack(gconstpointer data)
{
	const char *format = data;
	g_autoptr(GByteArray) elf = vm_elf();
	g_autofree char *name = g_strdup_printf("bzImage-%s", format);
	g_autofree char *path = write_packed_kernel(name, format, elf, VM_INIT_SIZE);
	g_autofree uint8_t *initrd = g_malloc(5000);
	g_autofree char *initrd_path = NULL, *cmdline = NULL;
	struct boot_config config = { .kernel_path = path, .cmdline = "console=ttyS0" };
	uint64_t bp = LAYOUT_BOOT_PARAMS_ADDR, initrd_addr;
	struct boot_entry entry;
	struct guest_memory mem;

	for (size_t i = 0; i < 5000; i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	initrd_path = write_file("unpack-initrd", initrd, 5000);
	config.initrd_path = initrd_path;

	guest_init(&mem, 64 * MIB);
	dirty_kernel_area(&mem);
	load_ok(&mem, &config, &entry);
	assert_vmlinux_loaded(&mem, elf);
	/* The bzImage itself is not copied to 1 MiB: nothing runs there. */
	g_assert_cmphex(guest_u8(&mem, LAYOUT_KERNEL_ADDR), ==, 0xcc);
	/* startup_64 of the unpacked kernel, at the ELF's physical entry. */
	assert_linux_entry_at(&mem, &entry, VM_TEXT_ADDR);

	/* The zero page is the bzImage entry's, KASLR_FLAG (loadflags bit 1) clear. */
	g_assert_cmphex(guest_u32(&mem, bp + 0x202), ==, 0x53726448);
	g_assert_cmphex(guest_u32(&mem, bp + 0x260), ==, VM_INIT_SIZE);
	g_assert_cmphex(guest_u8(&mem, bp + 0x211) & 0x83, ==, 0x01);
	cmdline = guest_string(&mem, guest_u32(&mem, bp + 0x228));
	g_assert_cmpstr(cmdline, ==, "console=ttyS0");
	assert_zero_page_e820(&mem);
	initrd_addr = guest_u32(&mem, bp + 0x218);
	g_assert_cmphex(initrd_addr, ==, (64 * MIB - 5000) & ~0xfffULL);
	g_assert_cmpuint(initrd_addr, >=, VM_TEXT_ADDR + VM_INIT_SIZE);
	g_assert_cmpmem(guest_memory_ptr(&mem, initrd_addr, 5000), 5000, initrd, 5000);
	guest_memory_destroy(&mem);
}

/*
 * The unpacked-kernel cache: the second load of the same kernel is served
 * from the cache (same guest result), a damaged entry is ignored and
 * rebuilt, and an empty VESSEL_KERNEL_CACHE turns the cache off.
 */
static void test_linux_unpack_cache(void)
{
	g_autoptr(GByteArray) elf = vm_elf();
	g_autofree char *path = write_packed_kernel("bzImage-cached", "xz", elf, VM_INIT_SIZE);
	g_autofree char *cache = g_build_filename(tmp_dir, "kernel-cache", NULL);
	struct boot_config config = { .kernel_path = path };
	struct boot_entry entry;
	struct guest_memory mem;
	const char *name;
	g_autofree char *entry_path = NULL;
	GDir *dir;

	g_setenv("VESSEL_KERNEL_CACHE", cache, TRUE);
	guest_init(&mem, 64 * MIB);
	dirty_kernel_area(&mem);
	load_ok(&mem, &config, &entry);
	assert_vmlinux_loaded(&mem, elf);
	guest_memory_destroy(&mem);

	/* Exactly one entry, holding the unpacked ELF. */
	dir = g_dir_open(cache, 0, NULL);
	g_assert_nonnull(dir);
	name = g_dir_read_name(dir);
	g_assert_nonnull(name);
	g_assert_true(g_str_has_suffix(name, ".vmlinux"));
	entry_path = g_build_filename(cache, name, NULL);
	g_assert_null(g_dir_read_name(dir));
	g_dir_close(dir);
	{
		g_autofree char *contents = NULL;
		gsize len;

		g_assert_true(g_file_get_contents(entry_path, &contents, &len, NULL));
		g_assert_cmpmem(contents, len, elf->data, elf->len);
	}

	/* A hit gives the same guest. */
	guest_init(&mem, 64 * MIB);
	dirty_kernel_area(&mem);
	load_ok(&mem, &config, &entry);
	assert_vmlinux_loaded(&mem, elf);
	guest_memory_destroy(&mem);

	/* A truncated entry is ignored, and rewritten whole. */
	g_assert_true(g_file_set_contents(entry_path, "short", 5, NULL));
	guest_init(&mem, 64 * MIB);
	dirty_kernel_area(&mem);
	load_ok(&mem, &config, &entry);
	assert_vmlinux_loaded(&mem, elf);
	guest_memory_destroy(&mem);
	{
		g_autofree char *contents = NULL;
		gsize len;

		g_assert_true(g_file_get_contents(entry_path, &contents, &len, NULL));
		g_assert_cmpuint(len, ==, elf->len);
	}
	g_setenv("VESSEL_KERNEL_CACHE", "", TRUE);
}

/* An e_entry given as a virtual address runs at its physical counterpart. */
static void test_linux_unpack_virtual_entry(void)
{
	g_autoptr(GByteArray) elf = vm_elf();
	g_autofree char *path = NULL;
	struct boot_config config = { 0 };
	struct boot_entry entry;
	struct guest_memory mem;

	put_u64(elf, 24, VM_TEXT_ADDR + VM_START_KERNEL_MAP + 0x40);
	path = write_packed_kernel("bzImage-virtual-entry", "gzip", elf, VM_INIT_SIZE);
	config.kernel_path = path;
	guest_init(&mem, 64 * MIB);
	dirty_kernel_area(&mem);
	load_ok(&mem, &config, &entry);
	assert_vmlinux_loaded(&mem, elf);
	assert_linux_entry_at(&mem, &entry, VM_TEXT_ADDR + 0x40);
	guest_memory_destroy(&mem);
}

/*
 * --guest-decompress, and payloads vessel-vmm does not unpack (LZO, an
 * unknown magic): the bzImage goes to 1 MiB and runs its own decompressor.
 */
static void test_linux_guest_decompress(void)
{
	g_autoptr(GByteArray) elf = vm_elf();
	g_autoptr(GByteArray) xz = pack("xz", elf->data, elf->len);
	g_autoptr(GByteArray) lzo = g_byte_array_new();
	g_autoptr(GByteArray) unknown = g_byte_array_new();
	static const uint8_t lzop_magic[] = { 0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a };
	static const uint8_t noise[] = { 0x1f, 0x9e, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05 };
	GByteArray *payloads[] = { xz, lzo, unknown };

	g_byte_array_append(lzo, lzop_magic, sizeof(lzop_magic));
	g_byte_array_append(lzo, xz->data, xz->len);
	g_byte_array_append(unknown, noise, sizeof(noise));
	g_byte_array_append(unknown, xz->data, xz->len);

	for (unsigned int i = 0; i < G_N_ELEMENTS(payloads); i++) {
		g_autoptr(GByteArray) image = bz_payload_image(payloads[i], VM_INIT_SIZE);
		g_autofree char *path = write_image("bzImage-guest-decompress", image);
		struct boot_config config = { .kernel_path = path, .guest_decompress = i == 0 };
		size_t kernel_size = image->len - BZ_SETUP_SIZE;
		struct boot_entry entry;
		struct guest_memory mem;

		g_test_message("payload %u, guest_decompress %d", i, config.guest_decompress);
		guest_init(&mem, 64 * MIB);
		dirty_kernel_area(&mem);
		load_ok(&mem, &config, &entry);
		g_assert_cmpmem(guest_memory_ptr(&mem, LAYOUT_KERNEL_ADDR, kernel_size), kernel_size,
				image->data + BZ_SETUP_SIZE, kernel_size);
		g_assert_cmphex(guest_u8(&mem, VM_TEXT_ADDR), ==, 0xcc);
		g_assert_cmphex(guest_u8(&mem, VM_DATA_ADDR + VM_DATA_FILESZ), ==, 0xcc);
		assert_linux_entry_at(&mem, &entry, LAYOUT_KERNEL_ADDR + 0x200);
		assert_zero_page_e820(&mem);
		guest_memory_destroy(&mem);
	}
}

/* Damaged payloads of every format fail with a message, never a crash. */
static void test_linux_unpack_damaged(gconstpointer data)
{
	const char *format = data;
	g_autoptr(GByteArray) elf = vm_elf();
	g_autoptr(GByteArray) good = pack(format, elf->data, elf->len);
	g_autofree char *unpack_error = g_strdup_printf("cannot unpack its %s-compressed kernel", format);
	size_t stream_len = good->len - (strcmp(format, "gzip") ? 4 : 8);
	struct guest_memory mem;
	GRand *rand = g_rand_new_with_seed(7);

	guest_init(&mem, 64 * MIB);
	{	/* truncated: the second half of the stream is missing */
		g_autoptr(GByteArray) p = g_byte_array_new();
		g_autoptr(GByteArray) image = NULL;
		g_autofree char *path = NULL;

		g_byte_array_append(p, good->data, (guint)(stream_len / 2));
		append_le32(p, elf->len);
		image = bz_payload_image(p, VM_INIT_SIZE);
		path = write_image("bz-truncated-payload", image);
		load_fails(&mem, &(struct boot_config){ .kernel_path = path }, VESSEL_ERROR_BAD_IMAGE,
			   unpack_error);
	}
	{	/* garbage after the first 6 bytes (the longest magic) */
		g_autoptr(GByteArray) p = g_byte_array_new();
		g_autoptr(GByteArray) image = NULL;
		g_autofree char *path = NULL;

		g_byte_array_append(p, good->data, good->len);
		for (size_t i = 6; i < stream_len; i++)
			p->data[i] = (uint8_t)g_rand_int(rand);
		image = bz_payload_image(p, VM_INIT_SIZE);
		path = write_image("bz-garbage-payload", image);
		load_fails(&mem, &(struct boot_config){ .kernel_path = path }, VESSEL_ERROR_BAD_IMAGE,
			   unpack_error);
	}
	{	/* one flipped byte in the middle */
		g_autoptr(GByteArray) p = g_byte_array_new();
		g_autoptr(GByteArray) image = NULL;
		g_autofree char *path = NULL;

		g_byte_array_append(p, good->data, good->len);
		p->data[stream_len / 2] ^= 0x55;
		image = bz_payload_image(p, VM_INIT_SIZE);
		path = write_image("bz-flipped-payload", image);
		load_fails(&mem, &(struct boot_config){ .kernel_path = path }, VESSEL_ERROR_BAD_IMAGE,
			   "-compressed kernel");
	}
	{	/* the size trailer one short, one long, absurd */
		static const struct {
			int64_t delta;
			const char *error;
		} sizes[] = {
			{ -1, "unpacks to more than the 25599 bytes its size field announces" },
			{ +1, "unpacks to 25600 bytes, but its size field announces 25601" },
			{ 0x7fff0000, "says it unpacks to 2147443712 bytes, but at most 8388608" },
		};

		for (unsigned int i = 0; i < G_N_ELEMENTS(sizes); i++) {
			g_autoptr(GByteArray) p = g_byte_array_new();
			g_autoptr(GByteArray) image = NULL;
			g_autofree char *path = NULL;

			g_byte_array_append(p, good->data, good->len);
			put_u32(p, p->len - 4, (uint32_t)(elf->len + sizes[i].delta));
			image = bz_payload_image(p, VM_INIT_SIZE);
			path = write_image("bz-size-payload", image);
			/* zlib checks gzip's ISIZE itself and calls a mismatch corrupt. */
			load_fails(&mem, &(struct boot_config){ .kernel_path = path }, VESSEL_ERROR_BAD_IMAGE,
				   !strcmp(format, "gzip") && i < 2 ? unpack_error : sizes[i].error);
		}
	}
	g_rand_free(rand);
	guest_memory_destroy(&mem);
}

/* Loads `elf`, damaged by the caller, and expects `fragment` in the error. */
static void vmlinux_fails(const GByteArray *elf, const char *fragment)
{
	g_autofree char *path = write_packed_kernel("bz-bad-vmlinux", "gzip", elf, VM_INIT_SIZE);
	struct guest_memory mem;

	guest_init(&mem, 64 * MIB);
	load_fails(&mem, &(struct boot_config){ .kernel_path = path }, VESSEL_ERROR_BAD_IMAGE, fragment);
	guest_memory_destroy(&mem);
}

static void test_linux_vmlinux_errors(void)
{
	static const struct {
		size_t offset;		/* in the ELF */
		unsigned int size;	/* 1, 2 or 8 bytes */
		uint64_t value;
		const char *error;
	} cases[] = {
		{ 0, 1, 0, "is not an ELF file" },
		{ 4, 1, 1, "is not a little-endian ELF64 file" },	/* ELFCLASS32 */
		{ 5, 1, 2, "is not a little-endian ELF64 file" },	/* big-endian */
		{ 16, 2, 3, "is not an x86-64 executable" },		/* ET_DYN */
		{ 18, 2, 3, "is not an x86-64 executable" },		/* EM_386 */
		{ 52, 2, 52, "ELF header of 52 bytes" },
		{ 54, 2, 32, "no usable program headers" },		/* e_phentsize */
		{ 56, 2, 0, "no usable program headers" },		/* e_phnum */
		{ 56, 2, 0xffff, "no usable program headers" },		/* PN_XNUM */
		{ 32, 8, VM_ELF_SIZE + VM_RELOCS_SIZE - 100, "is truncated: its 5 program headers" },
		{ 32, 8, UINT64_MAX - 8, "is truncated: its 5 program headers" },
		{ VM_PHDR(2) + 32, 8, VM_DATA_MEMSZ + 1, "segment 2 has more file bytes" },
		{ VM_PHDR(0) + 8, 8, VM_ELF_SIZE, "is truncated: segment 0 needs bytes" },
		{ VM_PHDR(0) + 8, 8, UINT64_MAX - 0x1000, "is truncated: segment 0" },
		{ VM_PHDR(3) + 24, 8, 0x20000, "segment 3 loads at physical 0x20000" },	/* our boot data */
		{ VM_PHDR(3) + 24, 8, 0xbffffc00, "outside [1 MiB, 3072 MiB)" },	/* into the PCI hole */
		{ VM_PHDR(3) + 24, 8, UINT64_MAX - 0x100, "outside [1 MiB, 3072 MiB)" },
		{ VM_PHDR(3) + 24, 8, VM_DATA_ADDR + VM_DATA_MEMSZ - 1, "overlap at physical 0x1204fff" },
		{ 24, 8, 0x1100000, "entry point 0x1100000 outside the code it loads" },
		{ 24, 8, VM_DATA_ADDR + VM_DATA_FILESZ, "outside the code it loads" },	/* in the bss */
	};

	for (unsigned int i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GByteArray) elf = vm_elf();

		if (cases[i].size == 1)
			elf->data[cases[i].offset] = (uint8_t)cases[i].value;
		else if (cases[i].size == 2)
			put_u16(elf, cases[i].offset, (uint16_t)cases[i].value);
		else
			put_u64(elf, cases[i].offset, cases[i].value);
		vmlinux_fails(elf, cases[i].error);
	}
	{
		g_autoptr(GByteArray) elf = vm_elf();

		for (unsigned int i = 0; i < VM_NR_PHDRS; i++)
			put_u32(elf, VM_PHDR(i), 4);	/* all PT_NOTE */
		vmlinux_fails(elf, "has no loadable segments");
	}
}

/*
 * Memory: the kernel occupies its segments and init_size from its start,
 * whichever ends higher; the initrd goes above both.
 */
static void test_linux_unpack_memory(void)
{
	g_autoptr(GByteArray) elf = vm_elf();
	g_autofree char *big_init = write_packed_kernel("bz-init-8m", "zstd", elf, VM_INIT_SIZE);
	g_autofree char *small_init = write_packed_kernel("bz-init-64k", "zstd", elf, 0x10000);
	g_autofree uint8_t *initrd = g_malloc0(3 * MIB);
	g_autofree char *initrd_path = write_file("initrd-3m", initrd, 3 * MIB);
	struct boot_config config = { .kernel_path = big_init, .initrd_path = initrd_path };
	struct boot_entry entry;
	struct guest_memory mem;

	/* init_size decides: [16 MiB, 24 MiB) is the kernel's, the initrd goes at 24 MiB. */
	guest_init(&mem, 27 * MIB);
	load_ok(&mem, &config, &entry);
	g_assert_cmphex(guest_u32(&mem, LAYOUT_BOOT_PARAMS_ADDR + 0x218), ==, 24 * MIB);
	guest_memory_destroy(&mem);
	guest_init(&mem, 27 * MIB - 0x1000);
	load_fails(&mem, &config, VESSEL_ERROR_INVALID_ARGUMENT, "(3 MiB) does not fit in guest memory");
	guest_memory_destroy(&mem);

	/* The segments end above start + init_size: they decide. */
	config.kernel_path = small_init;
	guest_init(&mem, ((VM_END + 0xfff) & ~0xfffULL) + 3 * MIB);
	load_ok(&mem, &config, &entry);
	g_assert_cmphex(guest_u32(&mem, LAYOUT_BOOT_PARAMS_ADDR + 0x218), ==, (VM_END + 0xfff) & ~0xfffULL);
	guest_memory_destroy(&mem);
	guest_init(&mem, ((VM_END + 0xfff) & ~0xfffULL) + 3 * MIB - 0x1000);
	load_fails(&mem, &config, VESSEL_ERROR_INVALID_ARGUMENT, "(3 MiB) does not fit in guest memory");
	guest_memory_destroy(&mem);

	/*
	 * An ELF that does not fit: the bzImage entry would need 16 MiB + 64 KiB
	 * (17 MiB), the unpacked segments reach past 18 MiB.
	 */
	config = (struct boot_config){ .kernel_path = small_init };
	guest_init(&mem, 18 * MIB);
	load_fails(&mem, &config, VESSEL_ERROR_INVALID_ARGUMENT,
		   "needs at least 19 MiB of memory; use --memory 19M or more");
	config.guest_decompress = true;
	load_ok(&mem, &config, &entry);
	guest_memory_destroy(&mem);
	{
		g_autoptr(GByteArray) far = vm_elf();
		g_autofree char *path = NULL;

		put_u64(far, VM_PHDR(3) + 24, 200 * MIB);
		path = write_packed_kernel("bz-far-segment", "lz4", far, VM_INIT_SIZE);
		config = (struct boot_config){ .kernel_path = path };
		guest_init(&mem, 64 * MIB);
		load_fails(&mem, &config, VESSEL_ERROR_INVALID_ARGUMENT, "needs at least 201 MiB of memory");
		guest_memory_destroy(&mem);
	}
}

/* A reset loads again: the same entry state, the bss zeroed again. */
static void test_linux_unpack_reload(void)
{
	g_autoptr(GByteArray) elf = vm_elf();
	g_autofree char *path = write_packed_kernel("bz-reload", "xz", elf, VM_INIT_SIZE);
	struct boot_config config = { .kernel_path = path };
	struct boot_entry first, second;
	struct guest_memory mem;

	guest_init(&mem, 64 * MIB);
	dirty_kernel_area(&mem);
	load_ok(&mem, &config, &first);
	memset(guest_memory_ptr(&mem, VM_DATA_ADDR, VM_DATA_MEMSZ), 0x77, VM_DATA_MEMSZ);
	load_ok(&mem, &config, &second);
	g_assert_cmpmem(&first.bsp, sizeof(first.bsp), &second.bsp, sizeof(second.bsp));
	assert_vmlinux_loaded(&mem, elf);
	guest_memory_destroy(&mem);
}

/* ---- format detection and file errors ----------------------------------- */

static void test_file_errors(void)
{
	g_autofree char *missing = g_build_filename(tmp_dir, "no-such-kernel", NULL);
	g_autofree char *empty = write_file("empty", "", 0);
	g_autofree uint8_t *noise = g_malloc(16384);
	g_autofree char *noise_path = NULL, *elf_path = NULL, *expected = NULL;
	g_autoptr(GByteArray) elf = mb_elf_image(0);
	struct boot_config config = { 0 };
	struct guest_memory mem;
	GRand *rand = g_rand_new_with_seed(42);

	for (size_t i = 0; i < 16384; i++)
		noise[i] = (uint8_t)g_rand_int(rand);
	g_rand_free(rand);
	noise_path = write_file("noise", noise, 16384);
	memset(elf->data + MB_SEG0_OFF, 0, 12);		/* no multiboot header */
	elf_path = write_image("vmlinux", elf);

	guest_init(&mem, 16 * MIB);
	config.kernel_path = missing;
	expected = g_strdup_printf("cannot open kernel '%s': No such file or directory", missing);
	load_fails(&mem, &config, VESSEL_ERROR_IO, expected);
	config.kernel_path = tmp_dir;
	load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "is a directory");
	config.kernel_path = empty;
	load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "is empty");
	config.kernel_path = noise_path;
	load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE,
		   "is not a kernel vessel-vmm can boot: expected a Linux bzImage or a multiboot ELF kernel");
	config.kernel_path = elf_path;
	load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "use the compressed bzImage, e.g. /boot/vmlinuz-*");
	config.kernel_path = "/dev/null";
	load_fails(&mem, &config, VESSEL_ERROR_BAD_IMAGE, "not a regular file");
	guest_memory_destroy(&mem);
}

static void test_unreadable(void)
{
	g_autoptr(GByteArray) image = mb_elf_image(0);
	g_autofree char *path = write_image("unreadable.elf", image);
	struct boot_config config = { .kernel_path = path };
	struct guest_memory mem;

	if (geteuid() == 0) {
		g_test_skip("root reads files regardless of their mode");
		return;
	}
	g_assert_cmpint(g_chmod(path, 0), ==, 0);
	guest_init(&mem, 16 * MIB);
	load_fails(&mem, &config, VESSEL_ERROR_PERMISSION, "Permission denied");
	guest_memory_destroy(&mem);
}

/* Loading is repeated on every guest reset and must give the same result. */
static void test_reload(void)
{
	g_autoptr(GByteArray) image = mb_elf_image(0);
	g_autofree char *path = write_image("reload.elf", image);
	struct boot_config config = { .kernel_path = path, .cmdline = "a" };
	struct boot_entry first, second;
	struct guest_memory mem;

	guest_init(&mem, 16 * MIB);
	load_ok(&mem, &config, &first);
	memset(guest_memory_ptr(&mem, MB_SEG1_ADDR, MB_SEG1_MEMSZ), 0x77, MB_SEG1_MEMSZ);
	load_ok(&mem, &config, &second);
	g_assert_cmpmem(&first.bsp, sizeof(first.bsp), &second.bsp, sizeof(second.bsp));
	g_assert_cmphex(guest_u8(&mem, MB_SEG1_ADDR + MB_SEG1_MEMSZ - 1), ==, 0);
	guest_memory_destroy(&mem);
}

static void remove_tmp_dir(void)
{
	g_autoptr(GDir) dir = g_dir_open(tmp_dir, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *path = g_build_filename(tmp_dir, name, NULL);

		g_unlink(path);
	}
	g_rmdir(tmp_dir);
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	int ret;

	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_dir_make_tmp("vessel-test-loader-XXXXXX", &error);
	g_assert_no_error(error);
	/* Never touch the user's kernel cache; the cache test sets its own. */
	g_setenv("VESSEL_KERNEL_CACHE", "", TRUE);

	g_test_add_func("/loader/multiboot/elf", test_multiboot_elf);
	g_test_add_func("/loader/linux/unpack-cache", test_linux_unpack_cache);
	g_test_add_func("/loader/multiboot/minimal-info", test_multiboot_minimal_info);
	g_test_add_func("/loader/multiboot/virtual-entry", test_multiboot_virtual_entry);
	g_test_add_func("/loader/multiboot/aout-kludge", test_multiboot_aout);
	g_test_add_func("/loader/multiboot/errors", test_multiboot_errors);
	g_test_add_func("/loader/multiboot/initrd-errors", test_multiboot_initrd_errors);
	g_test_add_func("/loader/linux/load", test_linux_load);
	g_test_add_func("/loader/linux/no-initrd", test_linux_no_initrd);
	g_test_add_func("/loader/linux/high-memory", test_linux_high_memory);
	g_test_add_func("/loader/linux/errors", test_linux_errors);
	g_test_add_func("/loader/linux/initrd-errors", test_linux_initrd_errors);
	for (unsigned int i = 0; i < G_N_ELEMENTS(pack_formats); i++) {
		g_autofree char *load = g_strdup_printf("/loader/linux/unpack/%s", pack_formats[i]);
		g_autofree char *damaged = g_strdup_printf("/loader/linux/unpack/%s-damaged", pack_formats[i]);

		g_test_add_data_func(load, pack_formats[i], test_linux_unpack);
		g_test_add_data_func(damaged, pack_formats[i], test_linux_unpack_damaged);
	}
	g_test_add_func("/loader/linux/unpack/virtual-entry", test_linux_unpack_virtual_entry);
	g_test_add_func("/loader/linux/unpack/guest-decompress", test_linux_guest_decompress);
	g_test_add_func("/loader/linux/unpack/vmlinux-errors", test_linux_vmlinux_errors);
	g_test_add_func("/loader/linux/unpack/memory", test_linux_unpack_memory);
	g_test_add_func("/loader/linux/unpack/reload", test_linux_unpack_reload);
	g_test_add_func("/loader/file-errors", test_file_errors);
	g_test_add_func("/loader/unreadable", test_unreadable);
	g_test_add_func("/loader/reload", test_reload);

	ret = g_test_run();
	remove_tmp_dir();
	g_free(tmp_dir);
	return ret;
}
