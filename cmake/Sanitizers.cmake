# coropush_sanitizers: the sanitizer flags chosen by COROPUSH_SANITIZERS, as an INTERFACE target.
#
#   -DCOROPUSH_SANITIZERS=address,undefined   AddressSanitizer (+ LeakSanitizer) and UBSan
#   -DCOROPUSH_SANITIZERS=thread              ThreadSanitizer
#
# Every project target links it, so the library, the tests and the fuzzers are instrumented alike.
# Reports are fatal (-fno-sanitize-recover), so a finding fails the test that triggered it.

set(COROPUSH_SANITIZERS "" CACHE STRING "Comma-separated -fsanitize= list (empty: none)")

add_library(coropush_sanitizers INTERFACE)
if(COROPUSH_SANITIZERS)
  if(COROPUSH_SANITIZERS MATCHES "thread" AND COROPUSH_SANITIZERS MATCHES "address")
    message(FATAL_ERROR "ThreadSanitizer cannot be combined with AddressSanitizer")
  endif()
  target_compile_options(coropush_sanitizers INTERFACE
    -fsanitize=${COROPUSH_SANITIZERS}
    -fno-sanitize-recover=all
    -fno-omit-frame-pointer
    # Line tables: what the sanitizers' stack traces need, and not full debug info (-g), which
    # coming after the build type's -g1 would override it and cost 15 % more compile time.
    -g1)
  target_link_options(coropush_sanitizers INTERFACE -fsanitize=${COROPUSH_SANITIZERS})
  if(COROPUSH_SANITIZERS MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC warns that TSan does not model std::atomic_thread_fence, which Asio's fenced_block
    # uses after running a handler. Asio's queues hand handlers between threads under a mutex,
    # which TSan does see, so the fence is not what orders our data: the warning is not a finding.
    target_compile_options(coropush_sanitizers INTERFACE -Wno-tsan)
  endif()
  if(COROPUSH_SANITIZERS MATCHES "undefined" AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang"
     AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 17)
    # Clang < 17 cannot emit -fsanitize=function's prologue data for split coroutine functions
    # ("Cannot represent a difference across sections"). Every other UBSan check stays on.
    target_compile_options(coropush_sanitizers INTERFACE -fno-sanitize=function)
  endif()
  message(STATUS "coropush: sanitizers ${COROPUSH_SANITIZERS}")
endif()

# With the fuzzers, the library is compiled with libFuzzer's coverage instrumentation too, so
# coverage guides the fuzzers through the server's code, not only through the targets.
if(COROPUSH_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "COROPUSH_BUILD_FUZZERS needs clang (libFuzzer); use the asan preset")
  endif()
  target_compile_options(coropush_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
endif()
