/* SPDX-License-Identifier: BSD-3-Clause */
/* One-line log messages: "vpio MODULE: LEVEL: message". */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vpio/log.h>

static const char *const level_names[] = { "error", "warn", "notice", "info", "debug" };

static int g_level = -1; /* -1: not yet read from VPIO_LOG_LEVEL */
static vpio_log_fn g_fn;
static void *g_ctx;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

int vpio_log_parse_level(const char *s)
{
	if (s == NULL)
		return -EINVAL;
	for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++) {
		if (strcmp(s, level_names[i]) == 0)
			return i;
	}
	if (s[0] >= '0' && s[0] <= '4' && s[1] == '\0')
		return s[0] - '0';
	return -EINVAL;
}

static void read_env_level(void)
{
	int l = vpio_log_parse_level(getenv("VPIO_LOG_LEVEL"));

	if (g_level < 0)
		g_level = l >= 0 ? l : VPIO_LOG_NOTICE;
}

void vpio_log_set_level(enum vpio_log_level level)
{
	pthread_once(&g_once, read_env_level);
	g_level = (int)level;
}

enum vpio_log_level vpio_log_get_level(void)
{
	pthread_once(&g_once, read_env_level);
	return (enum vpio_log_level)g_level;
}

void vpio_log_set_callback(vpio_log_fn fn, void *ctx)
{
	g_fn = fn;
	g_ctx = ctx;
}

void vpio_vlog(enum vpio_log_level level, const char *module, const char *fmt, va_list ap)
{
	char msg[512];

	if ((int)level > (int)vpio_log_get_level())
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (g_fn != NULL) {
		g_fn(level, module, msg, g_ctx);
		return;
	}
	if (level <= VPIO_LOG_WARN)
		fprintf(stderr, "vpio %s: %s: %s\n", module, level_names[level], msg);
	else
		fprintf(stderr, "vpio %s: %s\n", module, msg);
}

void vpio_log(enum vpio_log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpio_vlog(level, module, fmt, ap);
	va_end(ap);
}
