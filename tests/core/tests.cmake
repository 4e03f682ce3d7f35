hessa_add_c_test(test_random ${CMAKE_CURRENT_LIST_DIR}/test_random.c)
hessa_add_c_test(test_errors ${CMAKE_CURRENT_LIST_DIR}/test_errors.c)
hessa_add_c_test(test_strict ${CMAKE_CURRENT_LIST_DIR}/test_strict.c RANKS 1 3 TIMEOUT 30)
