# Data layer tests. The data files and the reference checksums are made once per test
# run by make_test_data.py (numpy) and make_hdf5 (C, HDF5 API) under
# build/tests/data_files: the fixture "data_files".
set(HESSA_DATA_FILES ${CMAKE_CURRENT_BINARY_DIR}/data_files)

add_executable(make_hdf5 ${CMAKE_CURRENT_LIST_DIR}/make_hdf5.c)
target_link_libraries(make_hdf5 PRIVATE PkgConfig::HDF5 m)
target_compile_options(make_hdf5 PRIVATE ${HESSA_WARNINGS})

add_test(NAME data_make_files
         COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/make_test_data.py ${HESSA_DATA_FILES} $<TARGET_FILE:make_hdf5>)
set_tests_properties(data_make_files PROPERTIES FIXTURES_SETUP data_files TIMEOUT 120 LABELS data)

# data_checksum_<case>_np{1,2,3}: one test per case of make_test_data.py (the case
# names come from the script itself, so a case is added in one place).
add_executable(test_data_checksum ${CMAKE_CURRENT_LIST_DIR}/test_data_checksum.c)
target_link_libraries(test_data_checksum PRIVATE hessa)
target_compile_options(test_data_checksum PRIVATE ${HESSA_WARNINGS})
execute_process(COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/make_test_data.py --list
                OUTPUT_VARIABLE HESSA_DATA_CASES RESULT_VARIABLE HESSA_DATA_CASES_RESULT)
if(NOT HESSA_DATA_CASES_RESULT EQUAL 0)
  message(FATAL_ERROR "tests/data/make_test_data.py --list failed")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/make_test_data.py)
foreach(case ${HESSA_DATA_CASES})
  hessa_add_mpi_test(NAME data_checksum_${case}
                     COMMAND $<TARGET_FILE:test_data_checksum> -case ${case} -reference ${HESSA_DATA_FILES}/reference_checksums.txt
                     RANKS 1 2 3 TIMEOUT 60 LABELS data)
  foreach(np 1 2 3)
    set_tests_properties(data_checksum_${case}_np${np} PROPERTIES FIXTURES_REQUIRED data_files)
  endforeach()
endforeach()

# Readers and writer on files with known contents.
hessa_add_c_test(test_data_readers ${CMAKE_CURRENT_LIST_DIR}/test_data_readers.c ARGS -dir ${HESSA_DATA_FILES} LABELS data)
target_compile_definitions(test_data_readers PRIVATE HESSA_FASHION_MNIST_DIR="/usr/share/datasets/fashion-mnist")
foreach(np 1 2 3)
  set_tests_properties(test_data_readers_np${np} PROPERTIES FIXTURES_REQUIRED data_files)
endforeach()
set_tests_properties(test_data_readers_np1 PROPERTIES FIXTURES_SETUP hessa_written_npy)
add_test(NAME data_written_npy_loads_in_numpy COMMAND ${HESSA_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_written_npy.py ${HESSA_DATA_FILES})
set_tests_properties(data_written_npy_loads_in_numpy PROPERTIES FIXTURES_REQUIRED "data_files;hessa_written_npy" LABELS data)
