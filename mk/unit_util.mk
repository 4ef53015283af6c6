# unit tests of lib/util
test unit_util_parse
src test/unit/util/parse_ut.c

# growable public structs: old sizes, bad sizes, guards (doc/api.md)
test unit_util_sized
src test/unit/util/sized_ut.c
