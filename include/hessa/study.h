/* hessa study: families of points. Training (optimisers, checkpoints, the training
 * log) and the task farm that analyses many points over sub-communicators with a
 * collector rank (results.jsonl / results.csv, reruns skip finished points).
 *
 * Collective on the communicator given to each call unless a comment says otherwise.
 */
#ifndef HESSA_STUDY_H
#define HESSA_STUDY_H

#include <hessa/analysis.h>
#include <hessa/report.h>

/* ---- training ---- */

/* ---- study (task farm) ---- */

#endif
