// A fixture for the layer check: a source of jobs/redis/ belongs to that layer, not to jobs/, so
// it may include jobs/ (its row names it) and not jobs/feature/, which only the server may. Not
// compiled.
#pragma once

#include "jobs/feature/jobs_feature.hpp"
#include "jobs/job.hpp"
