# ALLEYCAT_REQUIRE_PKG(VARIABLE-PREFIX, MODULES, DEBIAN-PACKAGE)
# ----------------------------------------------------------------
# Find a required library through pkg-config; when it is missing, stop with
# a message that names the Debian package that provides it.
AC_DEFUN([ALLEYCAT_REQUIRE_PKG],
[PKG_CHECK_MODULES([$1], [$2], [],
  [AC_MSG_ERROR([$2 was not found ($$1_PKG_ERRORS); on Debian: apt-get install $3])])])
