# coropush_warnings: the warning set for the project's own targets, as an INTERFACE target that
# each target links (cpp-best-practices style) instead of flags pasted per target.
# Third-party headers come in through imported targets as SYSTEM includes, so they stay quiet.

add_library(coropush_warnings INTERFACE)
target_compile_options(coropush_warnings INTERFACE
  -Wall
  -Wextra
  -Wpedantic
  -Wshadow
  -Wnon-virtual-dtor
  -Wold-style-cast
  -Wcast-align
  -Woverloaded-virtual
  -Wconversion
  -Wimplicit-fallthrough
  -Wformat=2
  -Wunused
  $<$<CXX_COMPILER_ID:GNU>:-Wduplicated-cond -Wlogical-op -Wuseless-cast>
  # Names the implementation reserves (_Upper, __x, a__b, _x at global scope, such macros): clang
  # checks them as it compiles (the ASan build), in place of clang-tidy's
  # bugprone-reserved-identifier, the costliest of its matchers (a tenth of their time).
  $<$<CXX_COMPILER_ID:Clang>:-Wreserved-identifier -Wreserved-macro-identifier>
  # GCC 12 reports std::string concatenation inlined at -O2 as out-of-bounds memcpy (GCC bugs
  # 105329, 105651), and a coroutine frame freed by its promise type's operator delete as a
  # mismatched deallocation: false positives in library code, not ours.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-array-bounds -Wno-restrict -Wno-stringop-overflow -Wno-stringop-overread -Wno-mismatched-new-delete>
)
if(COROPUSH_WARNINGS_AS_ERRORS)
  target_compile_options(coropush_warnings INTERFACE -Werror)
endif()
