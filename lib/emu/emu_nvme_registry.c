/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The process-wide registry of emulated NVMe controllers, by canonical
 * name.  A controller outlives its device handles: closing keeps it (and
 * its data) until vpio_emu_destroy() or the end of the process.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu_internal.h"

struct entry {
	struct vpio_emu_nvme *c;
	struct entry *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *g_list;
static bool g_atexit;

static struct entry **find(const char *canon)
{
	struct entry **e;

	for (e = &g_list; *e != NULL; e = &(*e)->next) {
		if (strcmp((*e)->c->name, canon) == 0)
			break;
	}
	return e;
}

/* At exit: every thread stops (open devices may still be mapped by the
 * application, so their memory stays); closed ones are freed. */
static void at_exit(void)
{
	pthread_mutex_lock(&g_lock);
	for (struct entry **e = &g_list; *e != NULL;) {
		struct entry *cur = *e;

		if (__atomic_load_n(&cur->c->open, __ATOMIC_ACQUIRE)) {
			emu_nvme_stop(cur->c);
			e = &cur->next;
			continue;
		}
		*e = cur->next;
		emu_nvme_free(cur->c);
		free(cur);
	}
	pthread_mutex_unlock(&g_lock);
}

static int open_existing(struct vpio_emu_nvme *c, const struct emu_nvme_opts *o)
{
	const char *k = emu_nvme_opts_conflict(&c->opts, o);

	if (k != NULL) {
		VPIO_ERR(EMU_MOD, "%s exists with a different '%s' option; open it without options, or vpio_emu_destroy() it first to change them",
			 c->name, k);
		return -EEXIST;
	}
	if (__atomic_load_n(&c->open, __ATOMIC_ACQUIRE)) {
		VPIO_ERR(EMU_MOD, "%s is already open (one device handle at a time); close it first",
			 c->name);
		return -EBUSY;
	}
	if (__atomic_load_n(&c->removed, __ATOMIC_ACQUIRE)) {
		VPIO_ERR(EMU_MOD, "%s was surprise-removed (fault injection); vpio_emu_destroy() it to create it anew",
			 c->name);
		return -ENODEV;
	}
	return 0;
}

int emu_nvme_open(const char *canon, unsigned idx, const char *optstr, struct vpio_pci_device **dev)
{
	struct emu_nvme_opts o;
	struct entry **e, *ne = NULL;
	struct vpio_emu_nvme *c = NULL;
	bool created = false;
	int rc;

	rc = emu_nvme_opts_parse(canon, optstr, &o);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&g_lock);
	e = find(canon);
	if (*e != NULL) {
		c = (*e)->c;
		rc = open_existing(c, &o);
	} else {
		ne = calloc(1, sizeof(*ne));
		if (ne == NULL) {
			VPIO_ERR(EMU_MOD, "%s: out of memory for the registry entry", canon);
			rc = -ENOMEM;
		} else {
			rc = emu_nvme_create(canon, idx, &o, &c);
			created = rc == 0;
		}
	}
	if (rc == 0)
		rc = emu_nvme_pci_fill(c, dev);
	if (rc != 0) {
		if (created)
			emu_nvme_free(c);
		goto out;
	}
	if (ne != NULL) {
		ne->c = c;
		ne->next = g_list;
		g_list = ne;
		ne = NULL;
		if (!g_atexit) {
			atexit(at_exit);
			g_atexit = true;
		}
	}
	__atomic_fetch_add(&c->power_cycles, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&c->open, true, __ATOMIC_RELEASE);
	emu_nvme_place(c);
	emu_nvme_kick(c);
out:
	pthread_mutex_unlock(&g_lock);
	free(ne);
	return rc;
}

void emu_nvme_closed(struct vpio_emu_nvme *c)
{
	pthread_mutex_lock(&g_lock);
	__atomic_store_n(&c->open, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&g_lock);
}

int emu_nvme_destroy(const char *canon)
{
	struct entry **e, *cur;

	pthread_mutex_lock(&g_lock);
	e = find(canon);
	cur = *e;
	if (cur == NULL) {
		pthread_mutex_unlock(&g_lock);
		VPIO_ERR(EMU_MOD, "cannot destroy %s: no such emulated device", canon);
		return -ENOENT;
	}
	if (__atomic_load_n(&cur->c->open, __ATOMIC_ACQUIRE)) {
		pthread_mutex_unlock(&g_lock);
		VPIO_ERR(EMU_MOD, "cannot destroy %s: it is open; close its device handle first", canon);
		return -EBUSY;
	}
	*e = cur->next;
	pthread_mutex_unlock(&g_lock);
	emu_nvme_free(cur->c);
	free(cur);
	return 0;
}

void emu_nvme_destroy_all(void)
{
	pthread_mutex_lock(&g_lock);
	for (struct entry **e = &g_list; *e != NULL;) {
		struct entry *cur = *e;

		if (__atomic_load_n(&cur->c->open, __ATOMIC_ACQUIRE)) {
			e = &cur->next;
			continue;
		}
		*e = cur->next;
		emu_nvme_free(cur->c);
		free(cur);
	}
	pthread_mutex_unlock(&g_lock);
}
