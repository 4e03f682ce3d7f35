# Graceful stop, -resume and rank failure of `hessa spectrum`, and SIGUSR1 to `hessa analyze`
# and `hessa landscape` at 1 and 3 ranks (docs/jobs.md), through the real
# executable: stop_resume.sh says what each mode asserts.
foreach(mode hook1 hook2 extremes arpack signal rankfail analyze1 analyze3 landscape1 landscape3)
  string(REGEX REPLACE "[^0-9]" "" np "${mode}")
  if(mode STREQUAL "signal" OR mode STREQUAL "extremes" OR mode STREQUAL "arpack")
    set(np 2)
  elseif(mode STREQUAL "rankfail")
    set(np 3)
  endif()
  add_test(NAME jobs_stop_${mode}
           COMMAND ${CMAKE_CURRENT_LIST_DIR}/stop_resume.sh ${mode} ${MPIEXEC_EXECUTABLE} $<TARGET_FILE:hessa-cli>)
  set_tests_properties(jobs_stop_${mode} PROPERTIES PROCESSORS ${np} TIMEOUT 120 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "jobs;mpi")
endforeach()

# A private single-node Slurm cluster: sbatch, scancel --signal, -resume (tests/slurm/run.sh).
add_test(NAME jobs_slurm COMMAND ${CMAKE_SOURCE_DIR}/tests/slurm/run.sh $<TARGET_FILE:hessa-cli>)
set_tests_properties(jobs_slurm PROPERTIES RUN_SERIAL TRUE TIMEOUT 240 ENVIRONMENT "${HESSA_TEST_ENV}" LABELS "slurm;jobs" SKIP_REGULAR_EXPRESSION "^SKIP:")
