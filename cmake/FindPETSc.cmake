# PETSc through pkg-config (Debian's petsc-dev installs PETSc.pc).
# Defines PETSc::PETSc.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_PETSC QUIET IMPORTED_TARGET PETSc)
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(PETSc REQUIRED_VARS PC_PETSC_FOUND VERSION_VAR PC_PETSC_VERSION)
if(PETSc_FOUND AND NOT TARGET PETSc::PETSc)
  add_library(PETSc::PETSc INTERFACE IMPORTED)
  target_link_libraries(PETSc::PETSc INTERFACE PkgConfig::PC_PETSC)
endif()
