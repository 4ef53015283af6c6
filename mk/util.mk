lib util
src lib/util/log.c
src lib/util/file.c
