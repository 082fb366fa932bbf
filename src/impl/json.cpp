// Boost.JSON, compiled once into the library instead of linking a prebuilt libboost_json, so it is
// built with the project's flags (sanitizers included).
#include <boost/json/src.hpp>
