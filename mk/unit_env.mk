# unit tests of lib/env
deps util env
test unit_env_addr_map
src test/unit/env/addr_map_ut.c

test unit_env_mem_map
src test/unit/env/mem_map_ut.c

test unit_env_iova_alloc
src test/unit/env/iova_alloc_ut.c

test unit_env_mem_reg
src test/unit/env/mem_reg_ut.c

test unit_env
src test/unit/env/env_ut.c
