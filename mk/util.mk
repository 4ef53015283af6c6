lib util
deps
api log.h parse.h
src lib/util/log.c
src lib/util/file.c
src lib/util/parse.c
src lib/util/sized.c
