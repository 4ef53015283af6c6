# unit tests of lib/util
deps util
test unit_util_parse
src test/unit/util/parse_ut.c
