/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux-entry: the Linux 64-bit boot protocol, seen from the kernel.
 *
 * This guest is a fake bzImage (linux-entry-head.S, linux-entry.ld,
 * mkbzimage.py), so the loader treats it as Linux.  startup_64 records the
 * processor state; here it is checked against Documentation/x86/boot.rst
 * ("64-bit Boot Protocol", "Details of Header Fields") and zero-page.rst:
 *
 *  - the image: startup_64 runs at 0x100200, the protected-mode part
 *    arrived byte for byte (trailer checksum);
 *  - 64-bit mode with paging: CR0.PE/PG, CR4.PAE (no LA57: the image does
 *    not claim 5-level support), EFER.LME/LMA; RFLAGS.IF clear;
 *  - CS = 0x10, DS = ES = SS = 0x18, both flat 4 GiB descriptors in the
 *    loaded GDT (execute/read 64-bit code; read/write data);
 *  - RSI = boot_params: the setup header copied (every "read" field equal
 *    to the image's, nothing past its end), type_of_loader set, loadflags
 *    kept, code32_start the load address, no setup_data (kernel_info's
 *    setup_type_max is 0), nothing above 4 GiB (no XLF_CAN_BE_LOADED_ABOVE_4G);
 *  - the command line is exactly the runner's: its last word carries the
 *    FNV-1a hash of everything before it; length <= cmdline_size;
 *  - the initrd holds the runner's pattern, ramdisk_size is its exact size,
 *    and it ends at or below initrd_addr_max;
 *  - e820: sorted, no overlaps, first entry RAM at 0, nothing usable in
 *    0xa0000-0xfffff, and the RAM from 1 MiB up totals ram_mib - 1 MiB;
 *  - kernel (init_size from the load address), zero page, command line and
 *    initrd lie in RAM and do not overlap each other, the GDT or the page
 *    tables;
 *  - the identity map (walked in software) covers the kernel's init_size,
 *    the zero page, the command line and the last page of low RAM, which
 *    is then written and read back.
 *
 * Command line: ram_mib=N initrd_size=N ... cmdline_fnv=<16 hex digits>
 * (run-guest.py --initrd-pattern and --cmdline-check provide the last two).
 */
#include "linux-entry.h"
#include "lib/cmdline.h"
#include "lib/idt.h"
#include "lib/io.h"
#include "lib/printf.h"
#include "lib/serial.h"
#include "lib/string.h"
#include "lib/test.h"

const char guest_name[] = "linux-entry";

#define KIB			((uint64_t)1024)
#define MIB			(1024 * KIB)
#define LOAD_ADDR		((uint64_t)0x100000)
#define ZERO_PAGE_SIZE		((uint64_t)4096)

#define CR0_PE			(1ULL << 0)
#define CR0_PG			(1ULL << 31)
#define CR4_PAE			(1ULL << 5)
#define CR4_LA57		(1ULL << 12)
#define EFER_LME		(1ULL << 8)
#define EFER_LMA		(1ULL << 10)
#define RFLAGS_IF		(1ULL << 9)

#define BOOT_CS			0x10	/* boot.rst: __BOOT_CS */
#define BOOT_DS			0x18	/* boot.rst: __BOOT_DS */

#define LOADED_HIGH		0x01	/* loadflags */
#define KASLR_FLAG		0x02
#define QUIET_FLAG		0x20
#define KEEP_SEGMENTS		0x40
#define CAN_USE_HEAP		0x80

#define E820_RAM		1
#define E820_MAX_ZERO_PAGE	128

/* Must match run-guest.py (--initrd-pattern, --cmdline-check). */
#define PATTERN_SEED		0x9e3779b97f4a7c15ULL
#define FNV64_OFFSET		0xcbf29ce484222325ULL
#define FNV64_PRIME		0x100000001b3ULL
#define CMDLINE_CHECK_WORD	" cmdline_fnv="
#define CMDLINE_CHECK_DIGITS	16
#define CMDLINE_CHECK_LEN	(sizeof(CMDLINE_CHECK_WORD) - 1 + CMDLINE_CHECK_DIGITS)

#define PTE_ADDR_MASK_4K	0x000ffffffffff000ULL

/* boot.rst, "The Real-Mode Kernel Header", up to protocol 2.15. */
struct setup_header {
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

#define HDR_OFFSET		0x1f1
#define HDR_AT(field, offset)						\
	_Static_assert(HDR_OFFSET + offsetof(struct setup_header, field) ==	\
		       (offset), #field)
HDR_AT(syssize, 0x1f4);
HDR_AT(boot_flag, 0x1fe);
HDR_AT(header, 0x202);
HDR_AT(type_of_loader, 0x210);
HDR_AT(code32_start, 0x214);
HDR_AT(cmd_line_ptr, 0x228);
HDR_AT(xloadflags, 0x236);
HDR_AT(setup_data, 0x250);
HDR_AT(init_size, 0x260);
_Static_assert(HDR_OFFSET + sizeof(struct setup_header) == 0x26c, "hdr end");

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* zero-page.rst: the fields this test reads. */
struct boot_params {
	uint8_t pad_000[0xc0];
	uint32_t ext_ramdisk_image;		/* 0x0c0 */
	uint32_t ext_ramdisk_size;		/* 0x0c4 */
	uint32_t ext_cmd_line_ptr;		/* 0x0c8 */
	uint8_t pad_0cc[0x1e8 - 0xcc];
	uint8_t e820_entries;			/* 0x1e8 */
	uint8_t pad_1e9[0x1ef - 0x1e9];
	uint8_t sentinel;			/* 0x1ef */
	uint8_t pad_1f0;
	struct setup_header hdr;		/* 0x1f1 */
	uint8_t pad_26c[0x290 - 0x26c];
	uint8_t edd_mbr_sig_buffer[0x40];	/* 0x290 */
	struct e820_entry e820_table[E820_MAX_ZERO_PAGE];	/* 0x2d0 */
	uint8_t pad_cd0[0x1000 - 0xcd0];
} __attribute__((packed));

#define BP_AT(field, offset) \
	_Static_assert(offsetof(struct boot_params, field) == (offset), #field)
BP_AT(ext_cmd_line_ptr, 0x0c8);
BP_AT(e820_entries, 0x1e8);
BP_AT(sentinel, 0x1ef);
BP_AT(hdr, HDR_OFFSET);
BP_AT(e820_table, 0x2d0);
_Static_assert(sizeof(struct boot_params) == 0x1000, "boot_params size");

/* linux-entry-head.S and linux-entry.ld. */
struct image_trailer {
	char magic[8];
	uint64_t checksum;
};
extern const struct image_trailer image_trailer;
extern const uint8_t image_setup_header[], image_setup_header_end[];
extern const char kernel_info[];

/*
 * Setup-header fields by who writes them (boot.rst, "Details of Header
 * Fields").  The loader must leave the kernel's "read" fields as they are
 * in the image; the others are its to fill in and are checked one by one.
 */
enum field_kind { FIELD_READ, FIELD_LOADER };

struct header_field {
	const char *name;
	uint16_t offset;	/* in boot_params */
	uint8_t size;
	enum field_kind kind;
};

static const struct header_field header_fields[] = {
	{ "setup_sects", 0x1f1, 1, FIELD_READ },
	{ "root_flags", 0x1f2, 2, FIELD_LOADER },	/* modify (optional) */
	{ "syssize", 0x1f4, 4, FIELD_READ },
	{ "ram_size", 0x1f8, 2, FIELD_READ },
	{ "vid_mode", 0x1fa, 2, FIELD_LOADER },	/* modify (obligatory) */
	{ "root_dev", 0x1fc, 2, FIELD_LOADER },	/* modify (optional) */
	{ "boot_flag", 0x1fe, 2, FIELD_READ },
	{ "jump", 0x200, 2, FIELD_READ },
	{ "header", 0x202, 4, FIELD_READ },
	{ "version", 0x206, 2, FIELD_READ },
	{ "realmode_swtch", 0x208, 4, FIELD_LOADER },	/* hook (optional) */
	{ "start_sys_seg", 0x20c, 2, FIELD_READ },
	{ "kernel_version", 0x20e, 2, FIELD_READ },
	{ "type_of_loader", 0x210, 1, FIELD_LOADER },
	{ "loadflags", 0x211, 1, FIELD_LOADER },
	{ "setup_move_size", 0x212, 2, FIELD_READ },	/* 2.00-2.01 only */
	{ "code32_start", 0x214, 4, FIELD_LOADER },
	{ "ramdisk_image", 0x218, 4, FIELD_LOADER },
	{ "ramdisk_size", 0x21c, 4, FIELD_LOADER },
	{ "bootsect_kludge", 0x220, 4, FIELD_READ },
	{ "heap_end_ptr", 0x224, 2, FIELD_LOADER },
	{ "ext_loader_ver", 0x226, 1, FIELD_LOADER },
	{ "ext_loader_type", 0x227, 1, FIELD_LOADER },
	{ "cmd_line_ptr", 0x228, 4, FIELD_LOADER },
	{ "initrd_addr_max", 0x22c, 4, FIELD_READ },
	{ "kernel_alignment", 0x230, 4, FIELD_LOADER },	/* modify (reloc) */
	{ "relocatable_kernel", 0x234, 1, FIELD_READ },
	{ "min_alignment", 0x235, 1, FIELD_READ },
	{ "xloadflags", 0x236, 2, FIELD_READ },
	{ "cmdline_size", 0x238, 4, FIELD_READ },
	{ "hardware_subarch", 0x23c, 4, FIELD_LOADER },
	/* "currently unused for the default x86/PC environment, do not modify" */
	{ "hardware_subarch_data", 0x240, 8, FIELD_READ },
	{ "payload_offset", 0x248, 4, FIELD_READ },
	{ "payload_length", 0x24c, 4, FIELD_READ },
	{ "setup_data", 0x250, 8, FIELD_LOADER },
	{ "pref_address", 0x258, 8, FIELD_READ },
	{ "init_size", 0x260, 4, FIELD_READ },
	{ "handover_offset", 0x264, 4, FIELD_READ },
	{ "kernel_info_offset", 0x268, 4, FIELD_READ },
};

/* A region the loader or the kernel occupies, for the overlap checks. */
struct region {
	const char *name;
	uint64_t start, end;	/* [start, end) */
};

static const struct setup_header *image_hdr(void)
{
	return (const struct setup_header *)image_setup_header;
}

static uint64_t fnv1a64_bytes(const char *s, size_t len)
{
	uint64_t h = FNV64_OFFSET;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * FNV64_PRIME;
	return h;
}

static bool parse_hex_digits(const char *s, size_t n, uint64_t *value)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned int digit;

		if (c >= '0' && c <= '9')
			digit = c - '0';
		else if (c >= 'a' && c <= 'f')
			digit = c - 'a' + 10;
		else
			return false;
		v = v << 4 | digit;
	}
	*value = v;
	return true;
}

/* Run first, while the image is exactly as the loader copied it. */
static uint64_t image_checksum(void)
{
	const uint64_t *word = (const uint64_t *)LOAD_ADDR;
	const uint64_t *end = (const uint64_t *)&image_trailer;
	uint64_t h = FNV64_OFFSET;

	while (word < end)
		h = (h ^ *word++) * FNV64_PRIME;
	return h;
}

static void check_image(const struct entry_state *state, uint64_t checksum)
{
	const struct setup_header *hdr = image_hdr();
	uint64_t file_end = (uint64_t)&image_trailer + sizeof(image_trailer);

	printf("linux-entry: startup_64 ran at %#lx; protected-mode part %#lx-%#lx, init_size %#x\n",
	       state->rip, LOAD_ADDR, file_end, hdr->init_size);
	test_assert(state->rip == LOAD_ADDR + 0x200,
		    "startup_64 ran at %#lx, want %#lx", state->rip,
		    LOAD_ADDR + 0x200);
	test_assert(!memcmp(image_trailer.magic, "VSLTRAIL", 8),
		    "no trailer magic at %p: the protected-mode part was not copied whole",
		    &image_trailer);
	test_assert(checksum == image_trailer.checksum,
		    "the protected-mode part at %#lx differs from the file: checksum %#lx, want %#lx",
		    LOAD_ADDR, checksum, image_trailer.checksum);
	test_assert(file_end - LOAD_ADDR == (uint64_t)hdr->syssize * 16,
		    "syssize %u does not describe the image", hdr->syssize);
}

static void check_cpu_mode(const struct entry_state *state)
{
	printf("linux-entry: CR0 %#lx CR3 %#lx CR4 %#lx EFER %#lx RFLAGS %#lx\n",
	       state->cr0, state->cr3, state->cr4, state->efer,
	       state->rflags);
	test_assert((state->cr0 & (CR0_PE | CR0_PG)) == (CR0_PE | CR0_PG),
		    "CR0 %#lx: protection or paging off", state->cr0);
	test_assert(state->cr4 & CR4_PAE, "CR4 %#lx: PAE off", state->cr4);
	/* XLF_5LEVEL is not in xloadflags: the kernel expects 4-level paging. */
	test_assert(!(state->cr4 & CR4_LA57),
		    "CR4 %#lx: 5-level paging, which this kernel does not support",
		    state->cr4);
	test_assert((state->efer & (EFER_LME | EFER_LMA)) ==
		    (EFER_LME | EFER_LMA),
		    "EFER %#lx: long mode not active", state->efer);
	test_assert(!(state->rflags & RFLAGS_IF),
		    "RFLAGS %#lx: interrupts enabled", state->rflags);
}

/* SDM vol. 3A §3.4.5, figure 3-8: a segment descriptor. */
struct segment {
	uint64_t base, limit;	/* limit in bytes, granularity applied */
	unsigned int type, s, dpl, p, l, db;
};

static struct segment decode_descriptor(uint64_t d)
{
	struct segment seg;
	uint64_t limit = (d & 0xffff) | ((d >> 32) & 0xf0000);

	seg.base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
	seg.limit = (d >> 55) & 1 ? (limit << 12) | 0xfff : limit;
	seg.type = (d >> 40) & 0xf;
	seg.s = (d >> 44) & 1;
	seg.dpl = (d >> 45) & 3;
	seg.p = (d >> 47) & 1;
	seg.l = (d >> 53) & 1;
	seg.db = (d >> 54) & 1;
	return seg;
}

static struct segment gdt_segment(const struct entry_state *state,
				  uint16_t selector, const char *what)
{
	uint64_t d;
	struct segment seg;

	test_assert((uint32_t)(selector & ~7) + 7 <= state->gdtr.limit,
		    "%s selector %#x is beyond the GDT limit %#x", what,
		    selector, state->gdtr.limit);
	d = *(const uint64_t *)(state->gdtr.base + (selector & ~7));
	seg = decode_descriptor(d);
	printf("linux-entry: GDT[%#x] %016lx: base %#lx limit %#lx type %#x s %u dpl %u p %u l %u d/b %u\n",
	       selector, d, seg.base, seg.limit, seg.type, seg.s, seg.dpl,
	       seg.p, seg.l, seg.db);
	test_assert(seg.p && seg.s, "%s descriptor %#x: not present or not code/data",
		    what, selector);
	test_assert(seg.base == 0 && seg.limit == 0xffffffff,
		    "%s descriptor %#x: base %#lx limit %#lx, not a flat 4 GiB segment",
		    what, selector, seg.base, seg.limit);
	test_assert(seg.dpl == 0, "%s descriptor %#x: DPL %u", what, selector,
		    seg.dpl);
	return seg;
}

static void check_segments(const struct entry_state *state)
{
	struct segment cs, ds;

	printf("linux-entry: CS %#x DS %#x ES %#x SS %#x FS %#x GS %#x TR %#x LDTR %#x\n",
	       state->cs, state->ds, state->es, state->ss, state->fs,
	       state->gs, state->tr, state->ldtr);
	printf("linux-entry: GDTR %#lx limit %#x, IDTR %#lx limit %#x\n",
	       state->gdtr.base, state->gdtr.limit, state->idtr.base,
	       state->idtr.limit);
	test_assert(state->cs == BOOT_CS, "CS %#x, want __BOOT_CS %#x",
		    state->cs, BOOT_CS);
	test_assert(state->ds == BOOT_DS && state->es == BOOT_DS &&
		    state->ss == BOOT_DS,
		    "DS %#x ES %#x SS %#x, want __BOOT_DS %#x", state->ds,
		    state->es, state->ss, BOOT_DS);
	cs = gdt_segment(state, BOOT_CS, "__BOOT_CS");
	/* Type 1x1x: code, readable; 64-bit code needs L=1, D=0. */
	test_assert((cs.type & 0xa) == 0xa,
		    "__BOOT_CS type %#x is not execute/read code", cs.type);
	test_assert(cs.l && !cs.db, "__BOOT_CS L=%u D=%u: not a 64-bit segment",
		    cs.l, cs.db);
	ds = gdt_segment(state, BOOT_DS, "__BOOT_DS");
	/* Type 0x1x: data, writable. */
	test_assert((ds.type & 0xa) == 0x2,
		    "__BOOT_DS type %#x is not read/write data", ds.type);
}

/* SDM vol. 3A §5.5: a 4-level walk, as the processor would do it. */
struct translation {
	uint64_t phys;
	uint64_t page_size;
	bool writable;
};

static const char *const level_names[] = { "PML4E", "PDPTE", "PDE", "PTE" };

static const char *translate(uint64_t cr3, uint64_t addr,
			     struct translation *t)
{
	uint64_t table = cr3 & PTE_ADDR_MASK_4K;
	bool writable = true;

	for (int level = 0; level < 4; level++) {
		unsigned int shift = 39 - 9 * level;
		uint64_t entry = ((const uint64_t *)table)[(addr >> shift) & 511];

		if (!(entry & 1))
			return level_names[level];
		writable = writable && (entry & 2);
		/* PS in a PDPTE or PDE ends the walk with a 1 GiB or 2 MiB page. */
		if (level == 3 || (level > 0 && (entry & 0x80))) {
			uint64_t size = 1ULL << shift;

			t->page_size = size;
			t->phys = (entry & PTE_ADDR_MASK_4K & ~(size - 1)) |
				  (addr & (size - 1));
			t->writable = writable;
			return NULL;
		}
		table = entry & PTE_ADDR_MASK_4K;
	}
	return "walk";
}

static void check_identity_mapped(const struct entry_state *state,
				  const char *what, uint64_t start,
				  uint64_t end, bool need_write)
{
	uint64_t addr = start;
	unsigned int pages = 0;

	while (addr < end) {
		struct translation t = { 0 };
		const char *missing = translate(state->cr3, addr, &t);

		test_assert(!missing, "%s: %#lx is not mapped (%s not present)",
			    what, addr, missing);
		test_assert(t.phys == addr,
			    "%s: %#lx maps to %#lx, not to itself", what,
			    addr, t.phys);
		test_assert(t.writable || !need_write,
			    "%s: %#lx is mapped read-only", what, addr);
		pages++;
		addr = (addr & ~(t.page_size - 1)) + t.page_size;
	}
	printf("linux-entry: identity mapped: %s %#lx-%#lx (%u page%s)\n",
	       what, start, end - 1, pages, pages == 1 ? "" : "s");
}

static void check_setup_header(const struct boot_params *bp)
{
	const uint8_t *copy = (const uint8_t *)bp;
	size_t hdr_end = HDR_OFFSET + (image_setup_header_end - image_setup_header);
	const struct setup_header *hdr = &bp->hdr, *want = image_hdr();
	uint8_t kept_flags = (uint8_t)~(QUIET_FLAG | KEEP_SEGMENTS | CAN_USE_HEAP);

	printf("linux-entry: boot_params: protocol %#x, type_of_loader %#x, loadflags %#x, code32_start %#x\n",
	       hdr->version, hdr->type_of_loader, hdr->loadflags,
	       hdr->code32_start);
	/* "0x0202 + byte value at offset 0x0201" */
	test_assert(hdr_end == 0x202 + (size_t)(want->jump >> 8),
		    "image header size %zu does not match its jump", hdr_end);
	for (size_t i = 0; i < ARRAY_SIZE(header_fields); i++) {
		const struct header_field *f = &header_fields[i];

		if (f->kind != FIELD_READ || f->offset + f->size > hdr_end)
			continue;
		test_assert(!memcmp(copy + f->offset,
				    image_setup_header + (f->offset - HDR_OFFSET),
				    f->size),
			    "boot_params.hdr.%s (at %#x) differs from the image's",
			    f->name, f->offset);
	}
	/* A 2.15 kernel has no fields past its header; those bytes stay 0. */
	for (size_t off = hdr_end; off < offsetof(struct boot_params, edd_mbr_sig_buffer); off++)
		test_assert(copy[off] == 0,
			    "boot_params byte %#zx, past the 2.15 setup header, is %#x",
			    off, copy[off]);
	test_assert(bp->sentinel == 0,
		    "boot_params.sentinel is %#x: the kernel would discard the loader's fields",
		    bp->sentinel);

	test_assert(hdr->type_of_loader != 0,
		    "type_of_loader is 0 (obligatory: 0xff if no assigned ID)");
	test_assert(hdr->loadflags & LOADED_HIGH, "loadflags %#x lost LOADED_HIGH",
		    hdr->loadflags);
	test_assert((hdr->loadflags & kept_flags) == (want->loadflags & kept_flags),
		    "loadflags %#x: the loader changed bits other than QUIET/CAN_USE_HEAP (image %#x; KASLR_FLAG %#x is the kernel's)",
		    hdr->loadflags, want->loadflags, KASLR_FLAG);
	test_assert(hdr->code32_start == LOAD_ADDR,
		    "code32_start %#x is not the load address %#lx",
		    hdr->code32_start, LOAD_ADDR);
	test_assert(hdr->hardware_subarch == 0,
		    "hardware_subarch %u: not the PC environment",
		    hdr->hardware_subarch);
	test_assert(hdr->setup_data == 0,
		    "setup_data %#lx, but kernel_info.setup_type_max is 0",
		    hdr->setup_data);
	test_assert(!memcmp(kernel_info, "LToP", 4) &&
		    (uint64_t)kernel_info - LOAD_ADDR == want->kernel_info_offset,
		    "the image's kernel_info is not at kernel_info_offset");
}

static const char *check_cmdline(const struct entry_state *state,
				 const struct boot_params *bp)
{
	const struct setup_header *hdr = &bp->hdr;
	const char *cmdline = (const char *)(uint64_t)hdr->cmd_line_ptr;
	char start[61] = "";
	size_t len;
	uint64_t want, got;

	printf("linux-entry: cmd_line_ptr %#x ext %#x\n", hdr->cmd_line_ptr,
	       bp->ext_cmd_line_ptr);
	test_assert(hdr->cmd_line_ptr != 0, "cmd_line_ptr is 0");
	test_assert(bp->ext_cmd_line_ptr == 0,
		    "ext_cmd_line_ptr %#x, but the kernel cannot take data above 4 GiB",
		    bp->ext_cmd_line_ptr);
	/* At least the page of the first byte, before reading it. */
	check_identity_mapped(state, "command line (first page)",
			      hdr->cmd_line_ptr, hdr->cmd_line_ptr + 1, false);
	len = strnlen(cmdline, image_hdr()->cmdline_size + 1);
	memcpy(start, cmdline, len < sizeof(start) - 1 ? len : sizeof(start) - 1);
	printf("linux-entry: command line: %zu bytes (cmdline_size %u): \"%s%s\"\n",
	       len, image_hdr()->cmdline_size, start,
	       len >= sizeof(start) ? "..." : "");
	test_assert(len <= image_hdr()->cmdline_size,
		    "the command line is longer than cmdline_size %u",
		    image_hdr()->cmdline_size);
	test_assert(len >= CMDLINE_CHECK_LEN &&
		    !strncmp(cmdline + len - CMDLINE_CHECK_LEN, CMDLINE_CHECK_WORD,
			     sizeof(CMDLINE_CHECK_WORD) - 1) &&
		    parse_hex_digits(cmdline + len - CMDLINE_CHECK_DIGITS,
				     CMDLINE_CHECK_DIGITS, &want),
		    "the command line does not end in \"%s<16 hex digits>\": truncated, or not the runner's",
		    CMDLINE_CHECK_WORD + 1);
	got = fnv1a64_bytes(cmdline, len - CMDLINE_CHECK_LEN);
	test_assert(got == want,
		    "the command line's first %zu bytes hash to %016lx, the runner's to %016lx",
		    len - CMDLINE_CHECK_LEN, got, want);
	check_identity_mapped(state, "command line", hdr->cmd_line_ptr,
			      hdr->cmd_line_ptr + len + 1, false);
	return cmdline;
}

static bool in_ram(const struct boot_params *bp, uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < bp->e820_entries; i++) {
		const struct e820_entry *e = &bp->e820_table[i];

		if (e->type == E820_RAM && start >= e->addr &&
		    end <= e->addr + e->size)
			return true;
	}
	return false;
}

/* Returns the end of the RAM that starts at or below 1 MiB. */
static uint64_t check_e820(const struct boot_params *bp, uint64_t ram_bytes)
{
	uint64_t prev_end = 0, ram_above_1m = 0, low_ram_top = 0;
	unsigned int n = bp->e820_entries;

	test_assert(n >= 1 && n <= E820_MAX_ZERO_PAGE,
		    "e820_entries is %u", n);
	for (unsigned int i = 0; i < n; i++) {
		const struct e820_entry *e = &bp->e820_table[i];
		uint64_t end = e->addr + e->size;

		printf("linux-entry: e820 %#011lx-%#011lx type %u\n", e->addr,
		       end - 1, e->type);
		test_assert(e->size != 0 && end > e->addr,
			    "e820 entry %u: size %#lx", i, e->size);
		test_assert(i == 0 || e->addr >= prev_end,
			    "e820 entry %u at %#lx: not sorted, or overlaps the one before (ends %#lx)",
			    i, e->addr, prev_end);
		prev_end = end;
		if (e->type != E820_RAM)
			continue;
		/* The VGA window, option ROMs and the BIOS are no RAM to use. */
		test_assert(end <= 0xa0000 || e->addr >= MIB,
			    "e820 entry %u gives %#lx-%#lx as RAM, over the legacy area 0xa0000-0xfffff",
			    i, e->addr, end - 1);
		if (end > MIB)
			ram_above_1m += end - (e->addr > MIB ? e->addr : MIB);
		if (e->addr <= MIB && end > MIB)
			low_ram_top = end;
	}
	test_assert(bp->e820_table[0].addr == 0 &&
		    bp->e820_table[0].type == E820_RAM,
		    "the first e820 entry is not RAM at 0");
	test_assert(low_ram_top, "no e820 RAM at 1 MiB");
	/* Everything the guest has above 1 MiB is usable. */
	test_assert(ram_above_1m == ram_bytes - MIB,
		    "e820 RAM above 1 MiB totals %lu KiB, want %lu KiB (ram_mib=%lu, less the first MiB)",
		    ram_above_1m / KIB, (ram_bytes - MIB) / KIB, ram_bytes / MIB);
	printf("linux-entry: e820: %u entries, %lu MiB of RAM above 1 MiB, low RAM ends at %#lx\n",
	       n, ram_above_1m / MIB, low_ram_top);
	return low_ram_top;
}

/* The runner's pattern: xorshift64 (13, 7, 17) words, little-endian. */
static void check_initrd(const struct entry_state *state,
			 const struct boot_params *bp, uint64_t want_size)
{
	const struct setup_header *hdr = &bp->hdr;
	const uint8_t *data = (const uint8_t *)(uint64_t)hdr->ramdisk_image;
	uint64_t size = hdr->ramdisk_size, x = PATTERN_SEED;
	uint64_t last = hdr->ramdisk_image + size - 1;

	printf("linux-entry: initrd %#x-%#lx (%lu bytes), initrd_addr_max %#x\n",
	       hdr->ramdisk_image, last, size, image_hdr()->initrd_addr_max);
	test_assert(bp->ext_ramdisk_image == 0 && bp->ext_ramdisk_size == 0,
		    "ext_ramdisk_image/size %#x/%#x, but the kernel cannot take data above 4 GiB",
		    bp->ext_ramdisk_image, bp->ext_ramdisk_size);
	test_assert(hdr->ramdisk_image != 0, "no initrd (ramdisk_image 0)");
	test_assert(size == want_size, "ramdisk_size %lu, the runner's initrd has %lu bytes",
		    size, want_size);
	test_assert(last <= image_hdr()->initrd_addr_max,
		    "the initrd's last byte %#lx is above initrd_addr_max %#x",
		    last, image_hdr()->initrd_addr_max);
	/*
	 * The protocol maps only the kernel, zero page and command line;
	 * vessel-vmm maps all of 0-4 GiB (docs/boot.md), which this read uses.
	 */
	check_identity_mapped(state, "initrd", hdr->ramdisk_image, last + 1,
			      false);
	for (uint64_t off = 0; off < size; off += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (size - off >= 8) {
			uint64_t got = *(const uint64_t *)(data + off);

			test_assert(got == x,
				    "initrd bytes %lu-%lu are %016lx, the runner wrote %016lx",
				    off, off + 7, got, x);
			continue;
		}
		for (uint64_t i = off; i < size; i++)
			test_assert(data[i] == (uint8_t)(x >> (8 * (i - off))),
				    "initrd byte %lu is %#x, the runner wrote %#x",
				    i, data[i], (uint8_t)(x >> (8 * (i - off))));
	}
	printf("linux-entry: initrd holds the runner's %lu-byte pattern\n",
	       size);
}

/*
 * The kernel owns [load address, + init_size) until it has read the
 * memory map: nothing the loader hands over may lie there, nor overlap
 * anything else it hands over.
 */
static void check_layout(const struct entry_state *state,
			 const struct boot_params *bp, const char *cmdline)
{
	const struct setup_header *hdr = &bp->hdr;
	const struct region regions[] = {
		{ "kernel (init_size)", LOAD_ADDR, LOAD_ADDR + image_hdr()->init_size },
		{ "zero page", state->rsi, state->rsi + ZERO_PAGE_SIZE },
		{ "command line", hdr->cmd_line_ptr,
		  hdr->cmd_line_ptr + strlen(cmdline) + 1 },
		{ "initrd", hdr->ramdisk_image,
		  (uint64_t)hdr->ramdisk_image + hdr->ramdisk_size },
		{ "GDT", state->gdtr.base,
		  state->gdtr.base + state->gdtr.limit + 1 },
		{ "page-table root (CR3)", state->cr3 & PTE_ADDR_MASK_4K,
		  (state->cr3 & PTE_ADDR_MASK_4K) + 4096 },
	};
	/* The first four hold data the kernel reads: it must be RAM. */
	const size_t in_ram_count = 4;

	for (size_t i = 0; i < ARRAY_SIZE(regions); i++) {
		const struct region *a = &regions[i];

		test_assert(i >= in_ram_count || in_ram(bp, a->start, a->end),
			    "%s %#lx-%#lx is not inside one e820 RAM entry",
			    a->name, a->start, a->end - 1);
		for (size_t j = i + 1; j < ARRAY_SIZE(regions); j++) {
			const struct region *b = &regions[j];

			test_assert(a->end <= b->start || b->end <= a->start,
				    "%s %#lx-%#lx overlaps %s %#lx-%#lx",
				    a->name, a->start, a->end - 1, b->name,
				    b->start, b->end - 1);
		}
	}
	printf("linux-entry: kernel, zero page, command line, initrd, GDT and page tables do not overlap\n");
}

static void check_top_of_low_ram(const struct entry_state *state,
				 uint64_t low_ram_top)
{
	volatile uint64_t *last = (volatile uint64_t *)(low_ram_top - 8);
	uint64_t saved;

	check_identity_mapped(state, "top of low RAM", low_ram_top - 4096,
			      low_ram_top, true);
	saved = *last;
	*last = ~saved;
	test_assert(*last == ~saved, "RAM at %p does not keep what was written",
		    last);
	*last = saved;
}

void linux_entry_main(const struct entry_state *state)
{
	uint64_t checksum = image_checksum();
	const struct boot_params *bp = (const struct boot_params *)state->rsi;
	uint64_t ram_mib, initrd_size, low_ram_top;
	const char *cmdline;

	serial_init();
	idt_init();
	printf("%s: a fake bzImage (protocol 2.15, not relocatable, pref_address %#lx), RSI %#lx\n",
	       guest_name, LOAD_ADDR, state->rsi);
	check_image(state, checksum);
	check_cpu_mode(state);
	check_segments(state);
	check_identity_mapped(state, "kernel (init_size)", LOAD_ADDR,
			      LOAD_ADDR + image_hdr()->init_size, true);

	test_assert(state->rsi != 0, "RSI is 0, not boot_params");
	check_identity_mapped(state, "zero page", state->rsi,
			      state->rsi + ZERO_PAGE_SIZE, false);
	check_setup_header(bp);
	cmdline = check_cmdline(state, bp);
	test_assert(cmdline_find_u64(cmdline, "ram_mib", &ram_mib) && ram_mib > 1,
		    "no ram_mib=N on the command line");
	test_assert(cmdline_find_u64(cmdline, "initrd_size", &initrd_size),
		    "no initrd_size=N on the command line");

	low_ram_top = check_e820(bp, ram_mib * MIB);
	check_initrd(state, bp, initrd_size);
	check_layout(state, bp, cmdline);
	check_top_of_low_ram(state, low_ram_top);
	test_pass();
}
