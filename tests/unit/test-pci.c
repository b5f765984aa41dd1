/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCI configuration mechanism #1 exactly as a guest uses it: a dword to
 * 0xCF8, then byte/word/dword accesses at 0xCFC-0xCFF, all through a real
 * I/O port bus.  BAR mappings are checked by accessing the real I/O and
 * MMIO buses where the guest put them.
 */
#include <glib.h>
#include <string.h>

#include "bus.h"
#include "error.h"
#include "pci.h"

#define TEST_SLOT	3
#define IO_BAR_SIZE	0x20
#define MMIO_BAR_SIZE	0x1000
#define MEM64_BAR_SIZE	0x100000

struct bar_region {
	unsigned int index;
	unsigned int accesses;
	uint64_t last_offset;
};

static uint64_t bar_read(void *opaque, uint64_t offset, unsigned int size)
{
	struct bar_region *r = opaque;

	r->accesses++;
	r->last_offset = offset;
	/* Answer with the BAR number and offset so a read proves who answered. */
	return 0xb0 + r->index + (offset << 8);
}

static void bar_write(void *opaque, uint64_t offset, uint64_t value, unsigned int size)
{
	struct bar_region *r = opaque;

	r->accesses++;
	r->last_offset = offset;
}

static const struct bus_ops bar_ops = { .read = bar_read, .write = bar_write };

struct bar_move {
	unsigned int bar;
	bool mapped;
	uint64_t addr;
};

struct test_device {
	struct pci_device pci;	/* first: bar_moved gets this pointer */
	struct bar_region regions[3];
	GArray *moves;		/* struct bar_move */
};

static void record_move(struct pci_device *dev, unsigned int bar, bool mapped, uint64_t addr)
{
	struct test_device *t = (struct test_device *)dev;
	struct bar_move move = { bar, mapped, addr };

	g_array_append_val(t->moves, move);
}

struct fixture {
	struct bus pio, mmio;
	struct pci_bus *pci;
	struct test_device dev;
	unsigned int resets;
};

static void count_reset(void *opaque)
{
	(*(unsigned int *)opaque)++;
}

static void test_device_init(struct test_device *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	pci_device_init(&t->pci, name, 0x1af4, 0x1234, 0x020000, 0x01);
	for (unsigned int i = 0; i < 3; i++)
		t->regions[i].index = i;
	pci_device_set_bar(&t->pci, 0, PCI_BAR_IO, false, IO_BAR_SIZE, &bar_ops, &t->regions[0]);
	pci_device_set_bar(&t->pci, 1, PCI_BAR_MEM32, false, MMIO_BAR_SIZE, &bar_ops, &t->regions[1]);
	pci_device_set_bar(&t->pci, 2, PCI_BAR_MEM64, true, MEM64_BAR_SIZE, &bar_ops, &t->regions[2]);
	t->pci.config[PCI_INTERRUPT_PIN] = 1;
	t->pci.bar_moved = record_move;
	t->moves = g_array_new(FALSE, TRUE, sizeof(struct bar_move));
}

static void fixture_setup(struct fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	memset(f, 0, sizeof(*f));
	bus_init(&f->pio, "I/O port");
	bus_init(&f->mmio, "MMIO");
	f->pci = pci_bus_new(&f->pio, &f->mmio, count_reset, &f->resets);
	g_assert_true(bus_register(&f->pio, PCI_CONFIG_PORT, PCI_CONFIG_PORT_COUNT, &pci_config_ops,
				   f->pci, "pci", &error));
	test_device_init(&f->dev, "test-dev");
	g_assert_true(pci_bus_add_device(f->pci, &f->dev.pci, TEST_SLOT, &error));
	g_assert_no_error(error);
}

static void fixture_teardown(struct fixture *f, gconstpointer data)
{
	pci_bus_free(f->pci);
	bus_destroy(&f->pio);
	bus_destroy(&f->mmio);
	g_array_unref(f->dev.moves);
}

static uint32_t config_address(unsigned int bus, unsigned int slot, unsigned int fn, unsigned int reg)
{
	return 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cfg_read_bdf(struct fixture *f, unsigned int bus, unsigned int slot, unsigned int fn,
			     unsigned int reg, unsigned int size)
{
	uint64_t value;

	bus_write(&f->pio, 0xcf8, 4, config_address(bus, slot, fn, reg));
	bus_read(&f->pio, 0xcfc + (reg & 3), size, &value);
	return (uint32_t)value;
}

static uint32_t cfg_read(struct fixture *f, unsigned int slot, unsigned int reg, unsigned int size)
{
	return cfg_read_bdf(f, 0, slot, 0, reg, size);
}

static void cfg_write(struct fixture *f, unsigned int slot, unsigned int reg, uint32_t value,
		      unsigned int size)
{
	bus_write(&f->pio, 0xcf8, 4, config_address(0, slot, 0, reg));
	bus_write(&f->pio, 0xcfc + (reg & 3), size, value);
}

/* Reads at addr on a bus: the BAR number that answered, or -1 for nobody. */
static int who_answers(struct bus *bus, uint64_t addr)
{
	uint64_t value;

	if (!bus_read(bus, addr, 1, &value))
		return -1;
	g_assert_cmphex(value & 0xf0, ==, 0xb0);
	return (int)(value & 0xf);
}

static void assert_move(struct fixture *f, unsigned int i, unsigned int bar, bool mapped, uint64_t addr)
{
	const struct bar_move *m;

	g_assert_cmpuint(i, <, f->dev.moves->len);
	m = &g_array_index(f->dev.moves, struct bar_move, i);
	g_assert_cmpuint(m->bar, ==, bar);
	g_assert_cmpint(m->mapped, ==, mapped);
	g_assert_cmphex(m->addr, ==, addr);
}

/* Programs BAR0 = 0xc000, BAR1 = 0xe0000000, BAR2/3 = 8 GiB, then enables decoding. */
static void program_bars(struct fixture *f, uint16_t command)
{
	cfg_write(f, TEST_SLOT, PCI_BAR0, 0xc000, 4);
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 4, 0xe0000000, 4);
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 8, 0x00000000, 4);
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 12, 0x2, 4);
	cfg_write(f, TEST_SLOT, PCI_COMMAND, command, 2);
}

static void test_address_register(struct fixture *f, gconstpointer data)
{
	uint64_t value;

	/* Only dword accesses reach CONFIG_ADDRESS; bits 1:0 read as zero. */
	g_assert_true(bus_write(&f->pio, 0xcf8, 4, 0x80001237));
	g_assert_true(bus_read(&f->pio, 0xcf8, 4, &value));
	g_assert_cmphex(value, ==, 0x80001234);
	bus_write(&f->pio, 0xcf8, 1, 0x00);
	bus_write(&f->pio, 0xcf8, 2, 0x0000);
	bus_read(&f->pio, 0xcf8, 4, &value);
	g_assert_cmphex(value, ==, 0x80001234);
	bus_read(&f->pio, 0xcf8, 2, &value);
	g_assert_cmphex(value, ==, 0xffff);

	/* With the enable bit clear, the data port reads as nothing. */
	bus_write(&f->pio, 0xcf8, 4, 0x00000000);
	bus_read(&f->pio, 0xcfc, 4, &value);
	g_assert_cmphex(value, ==, 0xffffffff);
}

static void test_host_bridge(struct fixture *f, gconstpointer data)
{
	/* 00:00.0 is an Intel 440FX host bridge. */
	g_assert_cmphex(cfg_read(f, 0, PCI_VENDOR_ID, 4), ==, 0x12378086);
	g_assert_cmphex(cfg_read(f, 0, PCI_REVISION_ID, 4) >> 8, ==, 0x060000);
	g_assert_cmphex(cfg_read(f, 0, PCI_HEADER_TYPE, 1), ==, 0x00);

	/* Every width and byte lane of the data port. */
	g_assert_cmphex(cfg_read(f, 0, 0, 1), ==, 0x86);
	g_assert_cmphex(cfg_read(f, 0, 1, 1), ==, 0x80);
	g_assert_cmphex(cfg_read(f, 0, 2, 1), ==, 0x37);
	g_assert_cmphex(cfg_read(f, 0, 3, 1), ==, 0x12);
	g_assert_cmphex(cfg_read(f, 0, 0, 2), ==, 0x8086);
	g_assert_cmphex(cfg_read(f, 0, 2, 2), ==, 0x1237);
	g_assert_cmphex(cfg_read(f, 0, 0x0b, 1), ==, 0x06);
	g_assert_cmphex(cfg_read(f, 0, 0x0a, 1), ==, 0x00);

	/* The IDs are read-only. */
	cfg_write(f, 0, PCI_VENDOR_ID, 0xffffffff, 4);
	cfg_write(f, 0, PCI_VENDOR_ID, 0x0000, 2);
	g_assert_cmphex(cfg_read(f, 0, PCI_VENDOR_ID, 4), ==, 0x12378086);
}

static void test_nothing_there(struct fixture *f, gconstpointer data)
{
	uint64_t value;

	/* An empty slot, another bus, another function: all ones at every width. */
	g_assert_cmphex(cfg_read(f, 5, 0, 4), ==, 0xffffffff);
	g_assert_cmphex(cfg_read(f, 31, 0, 2), ==, 0xffff);
	g_assert_cmphex(cfg_read(f, 5, 0x3c, 1), ==, 0xff);
	g_assert_cmphex(cfg_read_bdf(f, 1, 0, 0, 0, 4), ==, 0xffffffff);
	g_assert_cmphex(cfg_read_bdf(f, 255, TEST_SLOT, 0, 0, 4), ==, 0xffffffff);
	g_assert_cmphex(cfg_read_bdf(f, 0, 0, 1, 0, 4), ==, 0xffffffff);
	g_assert_cmphex(cfg_read_bdf(f, 0, TEST_SLOT, 7, 0, 2), ==, 0xffff);
	/* Writes there go nowhere and do not disturb anyone. */
	cfg_write(f, 5, PCI_COMMAND, 0x7, 2);
	bus_write(&f->pio, 0xcf8, 4, config_address(1, TEST_SLOT, 0, PCI_COMMAND));
	bus_write(&f->pio, 0xcfc, 2, 0x7);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_COMMAND, 2), ==, 0);

	/* Misaligned accesses inside the data port read as all ones. */
	bus_write(&f->pio, 0xcf8, 4, config_address(0, 0, 0, 0));
	bus_read(&f->pio, 0xcfd, 2, &value);
	g_assert_cmphex(value, ==, 0xffff);
	bus_read(&f->pio, 0xcfe, 4, &value);	/* runs past 0xcff */
	g_assert_cmphex(value, ==, 0xffffffff);
}

static void test_test_device_header(struct fixture *f, gconstpointer data)
{
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_VENDOR_ID, 4), ==, 0x12341af4);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_REVISION_ID, 4), ==, 0x02000001);
	/* BARs before programming: address 0, type bits only. */
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0, 4), ==, 0x1);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 4, 4), ==, 0x0);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 8, 4), ==, 0xc);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 12, 4), ==, 0x0);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_INTERRUPT_PIN, 1), ==, 1);
}

static void test_bar_sizing(struct fixture *f, gconstpointer data)
{
	/* The all-ones probe reads back the size mask with the type bits. */
	for (unsigned int i = 0; i < 6; i++)
		cfg_write(f, TEST_SLOT, PCI_BAR0 + 4 * i, 0xffffffff, 4);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0, 4), ==, (uint32_t)~(IO_BAR_SIZE - 1) | 0x1);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 4, 4), ==, (uint32_t)~(MMIO_BAR_SIZE - 1));
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 8, 4), ==, (uint32_t)~(MEM64_BAR_SIZE - 1) | 0xc);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 12, 4), ==, 0xffffffff);
	/* Unimplemented BARs stay zero. */
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 16, 4), ==, 0);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 20, 4), ==, 0);

	/* A probe, even with decoding on, maps nothing. */
	cfg_write(f, TEST_SLOT, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	g_assert_cmpuint(f->dev.moves->len, ==, 0);
	g_assert_cmpuint(f->pio.ranges->len, ==, 1);	/* only 0xcf8 */
	g_assert_cmpuint(f->mmio.ranges->len, ==, 0);
}

static void test_bar_mapping(struct fixture *f, gconstpointer data)
{
	uint64_t value;

	program_bars(f, 0);
	/* Programmed but not enabled: nothing decodes. */
	g_assert_cmpint(who_answers(&f->pio, 0xc000), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, -1);
	g_assert_cmpuint(f->dev.moves->len, ==, 0);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0, 4), ==, 0xc001);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 8, 4), ==, 0x0000000c);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 12, 4), ==, 0x2);

	/* I/O decoding only: the I/O BAR appears on the I/O bus, only there. */
	cfg_write(f, TEST_SLOT, PCI_COMMAND, PCI_COMMAND_IO, 2);
	g_assert_cmpint(who_answers(&f->pio, 0xc000), ==, 0);
	g_assert_cmpint(who_answers(&f->mmio, 0xc000), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, -1);
	g_assert_cmpuint(f->dev.moves->len, ==, 1);
	assert_move(f, 0, 0, true, 0xc000);

	/* Offsets within the BAR reach the device; the BAR ends where it should. */
	g_assert_true(bus_read(&f->pio, 0xc000 + IO_BAR_SIZE - 1, 1, &value));
	g_assert_cmpuint(f->dev.regions[0].last_offset, ==, IO_BAR_SIZE - 1);
	g_assert_cmpint(who_answers(&f->pio, 0xc000 + IO_BAR_SIZE), ==, -1);
	g_assert_true(bus_write(&f->pio, 0xc004, 4, 0));
	g_assert_cmpuint(f->dev.regions[0].last_offset, ==, 4);

	/* Memory decoding too: both memory BARs on the MMIO bus. */
	cfg_write(f, TEST_SLOT, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, 1);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000 + MMIO_BAR_SIZE - 1), ==, 1);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000 + MMIO_BAR_SIZE), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0x200000000ULL), ==, 2);
	g_assert_cmpint(who_answers(&f->mmio, 0x200000000ULL + MEM64_BAR_SIZE - 1), ==, 2);
	g_assert_cmpint(who_answers(&f->mmio, 0x200000000ULL + MEM64_BAR_SIZE), ==, -1);
	g_assert_cmpint(who_answers(&f->pio, 0xe000), ==, -1);
	g_assert_cmpuint(f->dev.moves->len, ==, 3);
	assert_move(f, 1, 1, true, 0xe0000000);
	assert_move(f, 2, 2, true, 0x200000000ULL);

	/* Clearing the I/O bit alone removes only the I/O BAR. */
	cfg_write(f, TEST_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	g_assert_cmpint(who_answers(&f->pio, 0xc000), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, 1);
	assert_move(f, 3, 0, false, 0xc000);
	/* Clearing everything (a byte write to the command register) unmaps all. */
	cfg_write(f, TEST_SLOT, PCI_COMMAND, 0, 1);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0x200000000ULL), ==, -1);
	g_assert_cmpuint(f->dev.moves->len, ==, 6);
	g_assert_cmpuint(f->mmio.ranges->len, ==, 0);
}

static void test_bar_move(struct fixture *f, gconstpointer data)
{
	program_bars(f, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	g_array_set_size(f->dev.moves, 0);

	/* Reprogramming a decoding BAR moves it. */
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 4, 0xe0100000, 4);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0100000), ==, 1);
	g_assert_cmpuint(f->dev.moves->len, ==, 2);
	assert_move(f, 0, 1, false, 0xe0000000);
	assert_move(f, 1, 1, true, 0xe0100000);

	/* A word write to the low half of the I/O BAR moves it too. */
	cfg_write(f, TEST_SLOT, PCI_BAR0, 0xd000, 2);
	g_assert_cmpint(who_answers(&f->pio, 0xc000), ==, -1);
	g_assert_cmpint(who_answers(&f->pio, 0xd000), ==, 0);

	/* The high dword of the 64-bit BAR moves it above 4 GiB... */
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 12, 0x3, 4);
	g_assert_cmpint(who_answers(&f->mmio, 0x200000000ULL), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0x300000000ULL), ==, 2);
	/* ...and low bits inside the size are not writable. */
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 8, 0xc0012345, 4);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 8, 4), ==, 0xc000000c);
	g_assert_cmpint(who_answers(&f->mmio, 0x3c0000000ULL), ==, 2);
	g_assert_cmpint(who_answers(&f->mmio, 0x300000000ULL), ==, -1);

	/* Address 0 means unassigned: it does not decode. */
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 4, 0, 4);
	g_assert_cmpint(who_answers(&f->mmio, 0), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0100000), ==, -1);
}

static void test_probe_while_decoding(struct fixture *f, gconstpointer data)
{
	program_bars(f, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
	g_array_set_size(f->dev.moves, 0);

	/* Firmware sizing a BAR without turning decoding off. */
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 4, 0xffffffff, 4);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 4, 4), ==, (uint32_t)~(MMIO_BAR_SIZE - 1));
	/* Neither the old address nor the probe pattern decodes. */
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0xfffff000), ==, -1);
	g_assert_cmpuint(f->dev.moves->len, ==, 1);
	assert_move(f, 0, 1, false, 0xe0000000);
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 4, 0xe0000000, 4);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, 1);

	/* Same for the 64-bit BAR, probed as two all-ones dwords. */
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 12, 0xffffffff, 4);
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 8, 0xffffffff, 4);
	g_assert_cmpint(who_answers(&f->mmio, 0x200000000ULL), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0xfffffffffff00000ULL), ==, -1);
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 8, 0, 4);
	cfg_write(f, TEST_SLOT, PCI_BAR0 + 12, 0x2, 4);
	g_assert_cmpint(who_answers(&f->mmio, 0x200000000ULL), ==, 2);

	/* And the I/O BAR. */
	cfg_write(f, TEST_SLOT, PCI_BAR0, 0xffffffff, 4);
	g_assert_cmpint(who_answers(&f->pio, 0xc000), ==, -1);
	g_assert_cmpint(who_answers(&f->pio, 0xffe0), ==, -1);
	cfg_write(f, TEST_SLOT, PCI_BAR0, 0xc000, 4);
	g_assert_cmpint(who_answers(&f->pio, 0xc000), ==, 0);
}

static void test_write_masks(struct fixture *f, gconstpointer data)
{
	/* Vendor, device, class, revision, header type, interrupt pin: read-only. */
	for (unsigned int reg = 0; reg < 0x10; reg += 4)
		if (reg != PCI_COMMAND)
			cfg_write(f, TEST_SLOT, reg, 0xffffffff, 4);
	cfg_write(f, TEST_SLOT, PCI_INTERRUPT_LINE, 0xffffffff, 4);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_VENDOR_ID, 4), ==, 0x12341af4);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_REVISION_ID, 4), ==, 0x02000001);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_HEADER_TYPE, 1), ==, 0);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_INTERRUPT_PIN, 1), ==, 1);
	/* Interrupt line, cache line size and latency timer are the guest's. */
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_INTERRUPT_LINE, 1), ==, 0xff);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, 0x0c, 2), ==, 0xffff);
	cfg_write(f, TEST_SLOT, PCI_INTERRUPT_LINE, 11, 1);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_INTERRUPT_LINE, 1), ==, 11);
	/* Subsystem IDs and the expansion ROM BAR are read-only zero here. */
	cfg_write(f, TEST_SLOT, PCI_SUBSYSTEM_VENDOR_ID, 0xffffffff, 4);
	cfg_write(f, TEST_SLOT, PCI_ROM_ADDRESS, 0xffffffff, 4);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_SUBSYSTEM_VENDOR_ID, 4), ==, 0);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_ROM_ADDRESS, 4), ==, 0);

	/* Command: only I/O, memory, bus master and INTx disable stick. */
	cfg_write(f, TEST_SLOT, PCI_COMMAND, 0xffff, 2);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_COMMAND, 2), ==, 0x0407);
	/* The BARs are still unassigned (address 0): enabling decoding mapped nothing. */
	g_assert_cmpuint(f->dev.moves->len, ==, 0);
}

static void test_status_w1c(struct fixture *f, gconstpointer data)
{
	/* The device reports a capability list, a master abort and a parity error. */
	f->dev.pci.config[PCI_STATUS] = 0x10;
	f->dev.pci.config[PCI_STATUS + 1] = 0xa0;
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_STATUS, 2), ==, 0xa010);

	/* Writing zeroes changes nothing; a 1 clears exactly that error bit. */
	cfg_write(f, TEST_SLOT, PCI_STATUS, 0x0000, 2);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_STATUS, 2), ==, 0xa010);
	cfg_write(f, TEST_SLOT, PCI_STATUS, 0x2000, 2);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_STATUS, 2), ==, 0x8010);
	/* Read-only bits ignore the 1s; a dword write also sets the command. */
	cfg_write(f, TEST_SLOT, PCI_COMMAND, 0xffff0004, 4);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_COMMAND, 4), ==, 0x00100004);
}

static void test_reset_control(struct fixture *f, gconstpointer data)
{
	uint64_t value;

	/* Linux's reboot=pci: 0x02 (hard reset select), then 0x06 (RST_CPU). */
	bus_write(&f->pio, 0xcf9, 1, 0x02);
	g_assert_cmpuint(f->resets, ==, 0);
	bus_read(&f->pio, 0xcf9, 1, &value);
	g_assert_cmphex(value, ==, 0x02);
	bus_write(&f->pio, 0xcf9, 1, 0x06);
	g_assert_cmpuint(f->resets, ==, 1);
	/* RST_CPU reads back clear, so the next 0x06 is a new reset. */
	bus_read(&f->pio, 0xcf9, 1, &value);
	g_assert_cmphex(value & 0x04, ==, 0);
	bus_write(&f->pio, 0xcf9, 1, 0x06);
	g_assert_cmpuint(f->resets, ==, 2);

	/* A dword at 0xcf8 is CONFIG_ADDRESS, never a reset. */
	bus_write(&f->pio, 0xcf8, 4, 0x80000400);
	bus_write(&f->pio, 0xcf8, 4, 0x0004ff00);
	g_assert_cmpuint(f->resets, ==, 2);
}

static void test_bus_reset(struct fixture *f, gconstpointer data)
{
	uint64_t value;

	program_bars(f, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_write(f, TEST_SLOT, PCI_INTERRUPT_LINE, 10, 1);
	g_array_set_size(f->dev.moves, 0);

	pci_bus_reset(f->pci);
	/* CONFIG_ADDRESS is cleared. */
	bus_read(&f->pio, 0xcf8, 4, &value);
	g_assert_cmphex(value, ==, 0);
	/* Every BAR unmapped, with its callback. */
	g_assert_cmpint(who_answers(&f->pio, 0xc000), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, -1);
	g_assert_cmpint(who_answers(&f->mmio, 0x200000000ULL), ==, -1);
	g_assert_cmpuint(f->mmio.ranges->len, ==, 0);
	g_assert_cmpuint(f->pio.ranges->len, ==, 1);
	g_assert_cmpuint(f->dev.moves->len, ==, 3);
	for (unsigned int i = 0; i < 3; i++)
		g_assert_false(g_array_index(f->dev.moves, struct bar_move, i).mapped);

	/* Registers back at power-on values, type bits kept. */
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_COMMAND, 2), ==, 0);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0, 4), ==, 0x1);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 4, 4), ==, 0x0);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 8, 4), ==, 0xc);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_BAR0 + 12, 4), ==, 0x0);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_INTERRUPT_LINE, 1), ==, 0);
	g_assert_cmphex(cfg_read(f, TEST_SLOT, PCI_VENDOR_ID, 4), ==, 0x12341af4);

	/* The guest can set everything up again. */
	program_bars(f, PCI_COMMAND_MEMORY);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, 1);
}

static void test_add_device(struct fixture *f, gconstpointer data)
{
	struct test_device other;

	test_device_init(&other, "other");
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(pci_bus_add_device(f->pci, &other.pci, 0, &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
	}
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(pci_bus_add_device(f->pci, &other.pci, PCI_SLOTS, &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
	}
	{
		g_autoptr(GError) error = NULL;

		g_assert_false(pci_bus_add_device(f->pci, &other.pci, TEST_SLOT, &error));
		g_assert_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull(strstr(error->message, "test-dev"));
	}
	{
		g_autoptr(GError) error = NULL;

		g_assert_true(pci_bus_add_device(f->pci, &other.pci, 31, &error));
		g_assert_no_error(error);
	}
	g_assert_cmphex(cfg_read(f, 31, PCI_VENDOR_ID, 4), ==, 0x12341af4);

	/* Two devices' BARs on top of each other: the first keeps the range. */
	program_bars(f, PCI_COMMAND_MEMORY);
	cfg_write(f, 31, PCI_BAR0 + 4, 0xe0000000, 4);
	cfg_write(f, 31, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	g_assert_cmpuint(f->dev.regions[1].accesses, ==, 0);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0000000), ==, 1);
	g_assert_cmpuint(f->dev.regions[1].accesses, ==, 1);
	g_assert_cmpuint(other.regions[1].accesses, ==, 0);
	/* Moved apart, the second one maps. */
	cfg_write(f, 31, PCI_BAR0 + 4, 0xe0200000, 4);
	g_assert_cmpint(who_answers(&f->mmio, 0xe0200000), ==, 1);
	g_assert_cmpuint(other.regions[1].accesses, ==, 1);

	pci_bus_reset(f->pci);
	g_assert_cmpuint(f->mmio.ranges->len, ==, 0);
	g_array_unref(other.moves);
}

#define ADD(path, fn) g_test_add(path, struct fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/pci/address-register", test_address_register);
	ADD("/pci/host-bridge", test_host_bridge);
	ADD("/pci/nothing-there", test_nothing_there);
	ADD("/pci/device-header", test_test_device_header);
	ADD("/pci/bar-sizing", test_bar_sizing);
	ADD("/pci/bar-mapping", test_bar_mapping);
	ADD("/pci/bar-move", test_bar_move);
	ADD("/pci/probe-while-decoding", test_probe_while_decoding);
	ADD("/pci/write-masks", test_write_masks);
	ADD("/pci/status-w1c", test_status_w1c);
	ADD("/pci/reset-control", test_reset_control);
	ADD("/pci/bus-reset", test_bus_reset);
	ADD("/pci/add-device", test_add_device);
	return g_test_run();
}
