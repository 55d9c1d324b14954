# orderflow_embed_text(<target> <file> <header> <symbol>): makes the text of <file> available
# to <target> as `inline constexpr std::string_view <symbol>` in the generated "<header>", so
# a binary carries the file (an OpenAPI document) without reading it at run time. Editing the
# file re-runs the configuration and rebuilds what includes the header.
function(orderflow_embed_text target file header symbol)
  get_filename_component(source ${file} ABSOLUTE)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${source})
  file(READ ${source} content)
  string(FIND "${content}" ")EMBEDDED\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${source} contains the raw-string delimiter )EMBEDDED\"")
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/embedded)
  # configure_file(COPYONLY) only touches the header when its text changes: no needless rebuilds.
  file(WRITE ${dir}/${header}.in
       "#pragma once\n// Generated from ${source}.\n#include <string_view>\n"
       "inline constexpr std::string_view ${symbol} = R\"EMBEDDED(${content})EMBEDDED\";\n")
  configure_file(${dir}/${header}.in ${dir}/${header} COPYONLY)
  target_include_directories(${target} PRIVATE ${dir})
endfunction()
