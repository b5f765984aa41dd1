/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guest_memory.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "layout.h"

bool guest_memory_parse_size(const char *text, uint64_t *size_bytes, GError **error)
{
	const char *p = text;
	uint64_t value = 0, shift = 20;	/* a bare number means MiB */

	if (!text || !g_ascii_isdigit(*p))
		goto invalid;
	for (; g_ascii_isdigit(*p); p++) {
		if (value > (UINT64_MAX - 9) / 10)
			goto too_big;
		value = value * 10 + (uint64_t)(*p - '0');
	}
	switch (g_ascii_toupper(*p)) {
	case '\0': break;
	case 'B': shift = 0; p++; break;
	case 'K': shift = 10; p++; break;
	case 'M': shift = 20; p++; break;
	case 'G': shift = 30; p++; break;
	case 'T': shift = 40; p++; break;
	default: goto invalid;
	}
	/* Accept "M", "MB", "MiB" alike: all mean powers of two here. */
	if (shift && (*p == 'i' || *p == 'I'))
		p++;
	if (shift && (*p == 'b' || *p == 'B'))
		p++;
	if (*p)
		goto invalid;
	if (value > (UINT64_MAX >> shift))
		goto too_big;
	*size_bytes = value << shift;
	return true;

invalid:
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
		    "invalid size '%s': use a number with a suffix such as 512M or 4G",
		    text ? text : "");
	return false;
too_big:
	g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
		    "size '%s' is too large", text);
	return false;
}

static uint64_t host_ram_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);

	return pages > 0 && page_size > 0 ? (uint64_t)pages * (uint64_t)page_size : 0;
}

bool guest_memory_init(struct guest_memory *mem, uint64_t ram_size_bytes, GError **error)
{
	uint64_t host_bytes = host_ram_bytes();
	uint64_t low_bytes;
	void *mapping;

	memset(mem, 0, sizeof(*mem));
	if (ram_size_bytes < LAYOUT_MIN_RAM_SIZE) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "memory size %" G_GUINT64_FORMAT " KiB is too small: a guest needs at least %llu MiB",
			    ram_size_bytes >> 10, LAYOUT_MIN_RAM_SIZE >> 20);
		return false;
	}
	if (ram_size_bytes & 0xfff) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "memory size must be a whole number of 4 KiB pages");
		return false;
	}
	if (host_bytes && ram_size_bytes > host_bytes) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_MEMORY,
			    "memory size %" G_GUINT64_FORMAT " MiB is more than this computer has (%" G_GUINT64_FORMAT " MiB): choose a smaller --memory",
			    ram_size_bytes >> 20, host_bytes >> 20);
		return false;
	}

	/*
	 * MAP_NORESERVE: guest RAM is touched lazily, like a real machine's RAM
	 * is only "used" once written.  The kernel backs pages on first touch.
	 */
	mapping = mmap(NULL, ram_size_bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mapping == MAP_FAILED) {
		int err = errno;

		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_MEMORY,
			    "cannot allocate %" G_GUINT64_FORMAT " MiB of guest memory: %s",
			    ram_size_bytes >> 20, g_strerror(err));
		return false;
	}
	/* Transparent huge pages cut TLB misses for guest RAM; advisory only. */
	madvise(mapping, ram_size_bytes, MADV_HUGEPAGE);

	mem->mapping = mapping;
	mem->ram_size_bytes = ram_size_bytes;
	low_bytes = MIN(ram_size_bytes, LAYOUT_PCI_HOLE_START);
	mem->regions[0] = (struct guest_memory_region){
		.guest_phys_addr = 0, .size_bytes = low_bytes, .host = mapping,
	};
	mem->nr_regions = 1;
	if (ram_size_bytes > low_bytes) {
		mem->regions[1] = (struct guest_memory_region){
			.guest_phys_addr = LAYOUT_4GIB,
			.size_bytes = ram_size_bytes - low_bytes,
			.host = (uint8_t *)mapping + low_bytes,
		};
		mem->nr_regions = 2;
	}
	return true;
}

void guest_memory_destroy(struct guest_memory *mem)
{
	for (unsigned int i = 0; i < mem->nr_device_ram; i++)
		munmap(mem->device_ram[i].host, mem->device_ram[i].size_bytes);
	if (mem->mapping)
		munmap(mem->mapping, mem->ram_size_bytes);
	memset(mem, 0, sizeof(*mem));
}

int guest_memory_add_device_ram(struct guest_memory *mem, const char *name, uint64_t size_bytes,
				GError **error)
{
	struct guest_memory_device_ram *d;
	void *host;

	if (mem->nr_device_ram >= GUEST_MEMORY_MAX_DEVICE_RAM || !size_bytes || (size_bytes & 0xfff)) {
		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_INVALID_ARGUMENT,
			    "cannot add %s: too many device memories or a bad size", name);
		return -1;
	}
	host = mmap(NULL, size_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (host == MAP_FAILED) {
		int err = errno;

		g_set_error(error, VESSEL_ERROR, VESSEL_ERROR_NO_MEMORY,
			    "cannot allocate %" G_GUINT64_FORMAT " MiB for %s: %s", size_bytes >> 20, name,
			    g_strerror(err));
		return -1;
	}
	d = &mem->device_ram[mem->nr_device_ram];
	*d = (struct guest_memory_device_ram){
		.name = name, .host = host, .size_bytes = size_bytes,
		.guest_phys_addr = GUEST_MEMORY_UNMAPPED,
	};
	return (int)mem->nr_device_ram++;
}

static bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
	return a < b + b_size && b < a + a_size;
}

bool guest_memory_map_device_ram(struct guest_memory *mem, unsigned int index, uint64_t guest_phys_addr)
{
	struct guest_memory_device_ram *d = &mem->device_ram[index];
	bool ok = true;

	g_assert(index < mem->nr_device_ram);
	if (guest_phys_addr != GUEST_MEMORY_UNMAPPED) {
		/* Below 4 GiB, page aligned, over neither RAM nor other device memory. */
		if ((guest_phys_addr & 0xfff) || guest_phys_addr >= LAYOUT_4GIB ||
		    d->size_bytes > LAYOUT_4GIB - guest_phys_addr)
			ok = false;
		for (unsigned int i = 0; ok && i < mem->nr_regions; i++)
			if (overlaps(guest_phys_addr, d->size_bytes, mem->regions[i].guest_phys_addr,
				     mem->regions[i].size_bytes))
				ok = false;
		for (unsigned int i = 0; ok && i < mem->nr_device_ram; i++) {
			uint64_t other = guest_memory_device_ram_addr(mem, i);

			if (i != index && other != GUEST_MEMORY_UNMAPPED &&
			    overlaps(guest_phys_addr, d->size_bytes, other, mem->device_ram[i].size_bytes))
				ok = false;
		}
	}
	__atomic_store_n(&d->guest_phys_addr, ok ? guest_phys_addr : GUEST_MEMORY_UNMAPPED,
			 __ATOMIC_RELEASE);
	return ok;
}

void guest_memory_device_ram_zero(struct guest_memory *mem, unsigned int index, uint64_t len)
{
	struct guest_memory_device_ram *d = &mem->device_ram[index];
	uint64_t pages = MIN((len + 0xfff) & ~0xfffULL, d->size_bytes);

	g_assert(index < mem->nr_device_ram);
	/* Private anonymous memory: MADV_DONTNEED makes it read as zero. */
	if (pages && madvise(d->host, pages, MADV_DONTNEED) != 0)
		memset(d->host, 0, pages);
}

uint64_t guest_memory_device_ram_addr(const struct guest_memory *mem, unsigned int index)
{
	return __atomic_load_n(&mem->device_ram[index].guest_phys_addr, __ATOMIC_ACQUIRE);
}

/* Offset of [addr, +len) inside [base, +size), or false; written so no sum overflows. */
static inline bool range_inside(uint64_t addr, uint64_t len, uint64_t base, uint64_t size,
				uint64_t *offset)
{
	if (addr < base)
		return false;
	*offset = addr - base;
	return *offset < size && len <= size - *offset;
}

void *guest_memory_ptr(const struct guest_memory *mem, uint64_t guest_phys_addr, uint64_t len)
{
	uint64_t offset;

	for (unsigned int i = 0; i < mem->nr_regions; i++) {
		const struct guest_memory_region *r = &mem->regions[i];

		if (range_inside(guest_phys_addr, len, r->guest_phys_addr, r->size_bytes, &offset))
			return r->host + offset;
	}
	for (unsigned int i = 0; i < mem->nr_device_ram; i++) {
		const struct guest_memory_device_ram *d = &mem->device_ram[i];
		uint64_t base = guest_memory_device_ram_addr(mem, i);

		if (base != GUEST_MEMORY_UNMAPPED &&
		    range_inside(guest_phys_addr, len, base, d->size_bytes, &offset))
			return d->host + offset;
	}
	return NULL;
}

/* Calls fn on each RAM-contained chunk of [addr, addr+len); false on a gap. */
static bool for_each_chunk(const struct guest_memory *mem, uint64_t guest_phys_addr, size_t len,
			   void (*fn)(uint8_t *host, size_t off, size_t n, void *data), void *data)
{
	size_t done = 0;

	if (len && guest_phys_addr + len - 1 < guest_phys_addr)
		return false;
	while (done < len) {
		uint64_t addr = guest_phys_addr + done;
		const struct guest_memory_region *found = NULL;

		for (unsigned int i = 0; i < mem->nr_regions; i++) {
			const struct guest_memory_region *r = &mem->regions[i];

			if (addr >= r->guest_phys_addr && addr - r->guest_phys_addr < r->size_bytes)
				found = r;
		}
		if (!found)
			return false;
		uint64_t avail = found->size_bytes - (addr - found->guest_phys_addr);
		size_t n = (size_t)MIN((uint64_t)(len - done), avail);

		fn(found->host + (addr - found->guest_phys_addr), done, n, data);
		done += n;
	}
	return true;
}

static void noop_chunk(uint8_t *host, size_t off, size_t n, void *data) {}

static bool range_is_ram(const struct guest_memory *mem, uint64_t addr, size_t len)
{
	return for_each_chunk(mem, addr, len, noop_chunk, NULL);
}

static void read_chunk(uint8_t *host, size_t off, size_t n, void *data)
{
	memcpy((uint8_t *)data + off, host, n);
}

static void write_chunk(uint8_t *host, size_t off, size_t n, void *data)
{
	memcpy(host, (const uint8_t *)data + off, n);
}

bool guest_memory_read(const struct guest_memory *mem, uint64_t guest_phys_addr, void *dst, size_t len)
{
	/* Check first so a failed read never leaves dst half-filled silently. */
	if (!range_is_ram(mem, guest_phys_addr, len))
		return false;
	return for_each_chunk(mem, guest_phys_addr, len, read_chunk, dst);
}

bool guest_memory_write(const struct guest_memory *mem, uint64_t guest_phys_addr, const void *src, size_t len)
{
	/* All or nothing: never a partial write into guest RAM. */
	if (!range_is_ram(mem, guest_phys_addr, len))
		return false;
	return for_each_chunk(mem, guest_phys_addr, len, write_chunk, (void *)src);
}

uint64_t guest_memory_low_end(const struct guest_memory *mem)
{
	return mem->nr_regions ? mem->regions[0].size_bytes : 0;
}

uint64_t guest_memory_high_size(const struct guest_memory *mem)
{
	return mem->nr_regions > 1 ? mem->regions[1].size_bytes : 0;
}
