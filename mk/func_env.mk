# functional tests of lib/env: lock-free lookups checked for exact answers
# while a writer churns registrations (doc/env.md, reclamation rule)
deps env
test func_env
src test/func/env/churn.c
