# Applies CROSSPROC_SANITIZE ("address,undefined" or "thread") to every target.
if(CROSSPROC_SANITIZE)
  add_compile_options(-fsanitize=${CROSSPROC_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${CROSSPROC_SANITIZE})
endif()
