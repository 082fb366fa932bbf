# Fails when a source under ROOT includes a layer its own layer may not use (cmake/Layers.cmake).
#   cmake -DROOT=<dir holding the layer folders> [-DSTAMP=<file to touch when clean>] -P CheckLayers.cmake
# Run by the build before the library compiles (src/CMakeLists.txt), and by ctest on src/ and on a
# fixture tree with a wrong include (tests/layers/), which it must refuse.
cmake_minimum_required(VERSION 3.25)
include(${CMAKE_CURRENT_LIST_DIR}/Layers.cmake)

if(NOT ROOT OR NOT IS_DIRECTORY "${ROOT}")
  message(FATAL_ERROR "CheckLayers: ROOT must name the directory holding the layer folders (got '${ROOT}')")
endif()
get_filename_component(ROOT "${ROOT}" ABSOLUTE)

file(GLOB_RECURSE sources RELATIVE "${ROOT}" "${ROOT}/*.hpp" "${ROOT}/*.cpp")
list(SORT sources)
set(problems "")
# The layer a path of ROOT belongs to: its first folder, or the first two when those name a layer
# of their own (jobs/redis/...): the deepest layer folder holding it.
function(layer_of path out)
  string(REGEX MATCH "^[^/]+" first "${path}")
  string(REGEX MATCH "^[^/]+/[^/]+" two "${path}")
  if(two AND NOT two STREQUAL path AND two IN_LIST COROPUSH_LAYERS)
    set(${out} "${two}" PARENT_SCOPE)
  else()
    set(${out} "${first}" PARENT_SCOPE)
  endif()
endfunction()

foreach(source IN LISTS sources)
  layer_of("${source}" layer)
  if(layer STREQUAL source)
    continue()  # a file beside the layer folders (none in src/)
  endif()
  if(NOT layer IN_LIST COROPUSH_LAYERS)
    string(APPEND problems "  ${source}: the folder '${layer}' is not a layer of cmake/Layers.cmake\n")
    continue()
  endif()
  set(allowed ${COROPUSH_LAYER_${layer}})
  file(STRINGS "${ROOT}/${source}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS lines)
    if(NOT line MATCHES "#[ \t]*include[ \t]*\"([^\"/]+/[^\"]*)\"")
      continue()  # "file.hpp": beside the includer, in its own layer
    endif()
    set(included "${CMAKE_MATCH_1}")
    layer_of("${included}" target)
    if(target STREQUAL layer OR target IN_LIST allowed OR included IN_LIST allowed)
      continue()  # its own layer, a layer it may use, or the one header of a layer it may use
    endif()
    if(allowed)
      string(REPLACE ";" ", " allowed_text "${allowed}")
    else()
      set(allowed_text "nothing of the project")
    endif()
    if(target IN_LIST COROPUSH_LAYERS)
      string(APPEND problems
             "  ${source} includes \"${included}\": ${layer}/ may include ${allowed_text} (besides itself)\n")
    else()
      string(APPEND problems "  ${source} includes \"${included}\": '${target}' is not a layer of cmake/Layers.cmake\n")
    endif()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "Layer check of ${ROOT} failed: an include points up or sideways (the table is in "
                      "cmake/Layers.cmake, CONTRIBUTING.md says why):\n${problems}")
endif()
list(LENGTH sources checked)
if(STAMP)
  file(TOUCH "${STAMP}")
endif()
message(STATUS "Layer check: ${checked} sources of ${ROOT} include only what their layer may use")
