/* SPDX-License-Identifier: BSD-3-Clause */
/* vpio-identify: SMART / health log and error log, in the spirit of
 * "nvme smart-log" and "nvme error-log". */
#include <stdio.h>
#include <string.h>

#include "identify.h"

/* 128-bit little-endian counter; decimal when it fits 64 bits. */
static void print_u128(const char *label, const uint64_t v[2], const char *unit)
{
	if (v[1] == 0)
		printf("  %-20s: %llu%s\n", label, (unsigned long long)v[0], unit);
	else
		printf("  %-20s: 0x%016llx%016llx%s\n", label, (unsigned long long)v[1], (unsigned long long)v[0], unit);
}

/* Data units are thousands of 512-byte blocks; shown with their size. */
static void print_data_units(const char *label, const uint64_t du[2])
{
	char sz[32], unit[48] = "";

	if (du[1] == 0 && du[0] < UINT64_MAX / 512000u)
		snprintf(unit, sizeof(unit), " (%s)", identify_size(sz, sizeof(sz), du[0] * 512000u));
	print_u128(label, du, unit);
}

static void print_warning(uint8_t w)
{
	static const char *const names[] = { "spare below threshold", "temperature", "reliability degraded",
					     "read only", "volatile backup failed", "persistent memory read only" };
	const char *sep = " (";

	printf("  %-20s: 0x%02x", "Critical warning", w);
	if (w == 0) {
		printf(" (none)\n");
		return;
	}
	for (unsigned i = 0; i < 6; i++) {
		if (w & (1u << i)) {
			printf("%s%s", sep, names[i]);
			sep = ", ";
		}
	}
	printf("%s\n", sep[0] == ',' ? ")" : "");
}

static void print_smart(const struct vpio_nvme_health_log *h)
{
	uint64_t du[2];

	print_warning(h->critical_warning);
	if (h->composite_temperature)
		printf("  %-20s: %u K (%d C)\n", "Temperature", h->composite_temperature,
		       (int)h->composite_temperature - 273);
	printf("  %-20s: %u%% (threshold %u%%)\n", "Available spare", h->available_spare, h->available_spare_threshold);
	printf("  %-20s: %u%%\n", "Percentage used", h->percentage_used);
	memcpy(du, h->data_units_read, sizeof(du));
	print_data_units("Data units read", du);
	memcpy(du, h->data_units_written, sizeof(du));
	print_data_units("Data units written", du);
	memcpy(du, h->host_read_commands, sizeof(du));
	print_u128("Host read commands", du, "");
	memcpy(du, h->host_write_commands, sizeof(du));
	print_u128("Host write commands", du, "");
	memcpy(du, h->controller_busy_time, sizeof(du));
	print_u128("Controller busy", du, " min");
	memcpy(du, h->power_cycles, sizeof(du));
	print_u128("Power cycles", du, "");
	memcpy(du, h->power_on_hours, sizeof(du));
	print_u128("Power-on hours", du, "");
	memcpy(du, h->unsafe_shutdowns, sizeof(du));
	print_u128("Unsafe shutdowns", du, "");
	memcpy(du, h->media_errors, sizeof(du));
	print_u128("Media errors", du, "");
	memcpy(du, h->num_error_info_log_entries, sizeof(du));
	print_u128("Error log entries", du, "");
}

static void print_errors(struct vpio_nvme_ctrlr *ctrlr)
{
	struct vpio_nvme_error_log_entry e[16];
	char st[VPIO_NVME_STATUS_STRLEN];
	unsigned shown = 0;

	memset(e, 0, sizeof(e));
	if (vpio_nvme_ctrlr_get_error_log(ctrlr, e, 16) != 0)
		return;
	for (unsigned i = 0; i < 16; i++) {
		if (e[i].error_count == 0)
			continue;
		if (shown++ == 0)
			printf("Error log (newest first)\n");
		printf("  #%llu: SQ %u cid 0x%x, %s, LBA %llu, nsid %u\n", (unsigned long long)e[i].error_count,
		       e[i].sqid, e[i].cid, vpio_nvme_status_fmt(st, sizeof(st), e[i].status), (unsigned long long)e[i].lba,
		       e[i].nsid);
	}
	if (shown == 0)
		printf("Error log: empty\n");
}

int identify_print_health(struct vpio_nvme_ctrlr *ctrlr)
{
	struct vpio_nvme_health_log h;
	int rc;

	memset(&h, 0, sizeof(h));
	rc = vpio_nvme_ctrlr_get_health_log(ctrlr, &h);
	if (rc != 0)
		return rc;
	printf("SMART / health\n");
	print_smart(&h);
	print_errors(ctrlr);
	return 0;
}
