# hessa study end to end (study_cases.py): groups of 1 and 2 against `hessa analyze` alone
# and the closed forms, SIGTERM + rerun, a cut-short results file, a folder manifest, and
# malformed manifests.
# The points and their reports alone (7 analyses on 1 rank) are the same for alone, pair,
# groups1 and groups2: the fixture study_reference makes them once.
add_test(NAME study_reference
         COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/study_cases.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} reference)
set_tests_properties(study_reference PROPERTIES FIXTURES_SETUP study_reference PROCESSORS 1 TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;study")
foreach(case alone pair groups1 groups2 sigterm truncated folder bad_yaml bad_key bad_duplicate bad_empty bad_name bad_type bad_step bad_both bad_missing_manifest)
  add_test(NAME study_${case}
           COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/study_cases.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} ${case})
  # PROCESSORS: the most ranks the case runs at once (alone: one rank collects and analyses)
  set(np 3)
  if(case STREQUAL "alone")
    set(np 1)
  endif()
  set_tests_properties(study_${case} PROPERTIES PROCESSORS ${np} TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;study")
endforeach()
set_tests_properties(study_alone study_pair study_groups1 study_groups2 PROPERTIES FIXTURES_REQUIRED study_reference)
# hessa compare (compare_cases.py, each case at 1 and 3 ranks): known values and geometry
# sidecars, two real studies of one small model, and one bad input per case.
foreach(case known studies bad_steps bad_checkpoints bad_column bad_unknown_column bad_number bad_repeated bad_empty bad_no_equals bad_missing_dir bad_loss bad_cut_short)
  add_test(NAME compare_${case}
           COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/compare_cases.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR} ${case})
  set_tests_properties(compare_${case} PROPERTIES PROCESSORS 3 TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;study")
endforeach()
# The shipped transformer study (jobs/studies/grokking-transformer.sh) at a tiny size on 2
# ranks: training with AdamW, four studies, hessa info, hessa compare and the grokking table.
add_test(NAME study_grokking_smoke
         COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/grokking_smoke.py ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli> ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(study_grokking_smoke PROPERTIES PROCESSORS 2 TIMEOUT 300 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "mpi;study")
