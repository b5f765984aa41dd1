/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * smp: application processors.
 *
 * Asserts: the MP table (MP spec 1.4 §4) lists exactly `cpus=N` enabled
 * processors, as many as fw_cfg's CPU count, with the BSP flagged and
 * having our APIC ID 0, and no ID twice; every AP started with the
 * INIT-SIPI-SIPI sequence (appendix B.4) arrives in long mode through the
 * real-mode trampoline within DEADLINE_MS, increments the checkpoint
 * counter once, and reports the CPUID APIC ID and LAPIC ID the table gave
 * it; then all CPUs add to one counter with LOCK-prefixed increments at
 * the same time and none of the increments is lost.
 */
#include "lib/fw_cfg.h"
#include "lib/io.h"
#include "lib/lapic.h"
#include "lib/mptable.h"
#include "lib/multiboot.h"
#include "lib/printf.h"
#include "lib/smp.h"
#include "lib/test.h"

const char guest_name[] = "smp";

#define DEADLINE_MS		2000
#define INCREMENTS_PER_CPU	2000

struct ap_report {
	uint32_t cpuid_apic_id;
	uint32_t lapic_id;
};

static volatile uint32_t checkpoint;
static volatile struct ap_report reports[SMP_MAX_APS];
static volatile uint32_t go;
static volatile uint32_t shared_counter;
static volatile uint32_t done_counting;

static void add_to_shared_counter(void)
{
	for (int i = 0; i < INCREMENTS_PER_CPU; i++)
		__asm__ volatile("lock incl %0" : "+m"(shared_counter));
}

static void ap_main(unsigned int index)
{
	uint32_t eax, ebx, ecx, edx;

	cpuid(1, &eax, &ebx, &ecx, &edx);
	reports[index].cpuid_apic_id = ebx >> 24;
	reports[index].lapic_id = lapic_id();
	__atomic_fetch_add(&checkpoint, 1, __ATOMIC_SEQ_CST);

	/* Wait (bounded) for the BSP's start signal, then race it. */
	for (uint32_t i = 0; !READ_ONCE(go) && i < 10000000; i++)
		cpu_relax();
	add_to_shared_counter();
	__atomic_fetch_add(&done_counting, 1, __ATOMIC_SEQ_CST);
}

static const struct mp_cpu *check_mp_table(struct mp_config *mp,
					   unsigned int want)
{
	const struct mp_cpu *bsp = NULL;
	uint16_t fw_cfg_cpus;

	test_assert(mptable_parse(mp), "no usable MP table");
	printf("smp: MP floating pointer at %#x, table at %#x, %u CPUs:",
	       mp->floating_pointer_addr, mp->table_addr, mp->cpu_count);
	for (unsigned int i = 0; i < mp->cpu_count; i++)
		printf(" %u%s", mp->cpus[i].apic_id, mp->cpus[i].bsp ? "(BSP)" : "");
	printf("\n");
	fw_cfg_cpus = fw_cfg_read_u16(FW_CFG_NB_CPUS);
	printf("smp: fw_cfg says %u CPUs, the command line %u\n", fw_cfg_cpus,
	       want);
	test_assert(mp->cpu_count == want, "MP table lists %u CPUs, want %u",
		    mp->cpu_count, want);
	test_assert(fw_cfg_cpus == mp->cpu_count,
		    "fw_cfg says %u CPUs, the MP table %u", fw_cfg_cpus,
		    mp->cpu_count);
	test_assert(mp->cpu_count - 1 <= SMP_MAX_APS, "more APs than we support");
	for (unsigned int i = 0; i < mp->cpu_count; i++) {
		for (unsigned int j = 0; j < i; j++)
			test_assert(mp->cpus[i].apic_id != mp->cpus[j].apic_id,
				    "APIC ID %u listed twice", mp->cpus[i].apic_id);
		if (mp->cpus[i].bsp) {
			test_assert(!bsp, "two processors flagged BSP");
			bsp = &mp->cpus[i];
		}
	}
	test_assert(bsp, "no processor entry has the BSP flag");
	test_assert(bsp->apic_id == lapic_id() && bsp->apic_id == 0,
		    "BSP entry has APIC ID %u, our LAPIC ID is %u", bsp->apic_id,
		    lapic_id());
	return bsp;
}

int main(void)
{
	static struct mp_config mp;
	uint64_t want;
	unsigned int aps, arrived;
	uint32_t elapsed_ms;

	test_assert(cmdline_get_u64("cpus", &want) && want >= 1 && want <= 16,
		    "no cpus=N (1-16) on the command line");
	check_mp_table(&mp, (unsigned int)want);
	aps = mp.cpu_count - 1;

	lapic_enable();
	smp_prepare(ap_main);
	for (unsigned int i = 0; i < mp.cpu_count; i++) {
		if (mp.cpus[i].bsp)
			continue;
		printf("smp: INIT-SIPI-SIPI to APIC ID %u, trampoline at %#x\n",
		       mp.cpus[i].apic_id, SMP_TRAMPOLINE_ADDR);
		test_assert(smp_start_ap(mp.cpus[i].apic_id),
			    "IPI to APIC ID %u stayed pending", mp.cpus[i].apic_id);
	}

	timeout_start(DEADLINE_MS);
	while (READ_ONCE(checkpoint) < aps && !timeout_expired())
		cpu_relax();
	elapsed_ms = timeout_elapsed_ms();
	timeout_stop();
	arrived = READ_ONCE(checkpoint);
	printf("smp: %u of %u APs reached the checkpoint (%u ms after the last SIPI)\n",
	       arrived, aps, elapsed_ms);
	test_assert(arrived == aps, "%u of %u APs arrived within %u ms",
		    arrived, aps, DEADLINE_MS);
	test_assert(ap_next_index == aps, "%u APs ran the trampoline, want %u",
		    ap_next_index, aps);

	for (unsigned int i = 0; i < aps; i++) {
		bool listed = false;

		printf("smp: AP %u: CPUID APIC ID %u, LAPIC ID %u\n", i,
		       reports[i].cpuid_apic_id, reports[i].lapic_id);
		test_assert(reports[i].cpuid_apic_id == reports[i].lapic_id,
			    "AP %u: CPUID says APIC ID %u, LAPIC %u", i,
			    reports[i].cpuid_apic_id, reports[i].lapic_id);
		for (unsigned int j = 0; j < i; j++)
			test_assert(reports[j].cpuid_apic_id !=
				    reports[i].cpuid_apic_id,
				    "two APs with APIC ID %u",
				    reports[i].cpuid_apic_id);
		for (unsigned int j = 0; j < mp.cpu_count; j++)
			listed |= !mp.cpus[j].bsp &&
				  mp.cpus[j].apic_id == reports[i].cpuid_apic_id;
		test_assert(listed, "AP with APIC ID %u is not in the MP table",
			    reports[i].cpuid_apic_id);
	}

	/* Everyone increments the same counter at once. */
	WRITE_ONCE(go, 1);
	add_to_shared_counter();
	timeout_start(DEADLINE_MS);
	while (READ_ONCE(done_counting) < aps && !timeout_expired())
		cpu_relax();
	timeout_stop();
	printf("smp: shared counter %u after %u CPUs x %u locked increments\n",
	       shared_counter, mp.cpu_count, INCREMENTS_PER_CPU);
	test_assert(done_counting == aps, "only %u APs finished counting",
		    done_counting);
	test_assert(shared_counter == mp.cpu_count * INCREMENTS_PER_CPU,
		    "counter %u, want %u: increments lost", shared_counter,
		    mp.cpu_count * INCREMENTS_PER_CPU);
	return 0;
}
