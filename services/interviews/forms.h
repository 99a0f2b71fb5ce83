/* forms.h -- checks of the prevention interview and return interview forms
 * against the guide, Appendix 4's value lists and the timeliness rule.
 * Pure: no database; the located time and the clock are passed in. Each
 * problem is added to st as a field violation named by its path in the
 * request ("form.method_other"). */
#ifndef INTERVIEWS_FORMS_H
#define INTERVIEWS_FORMS_H

#include <stdbool.h>
#include <stdint.h>

#include "homeward/interviews/v1/interviews.pb-c.h"
#include "hw_status.h"

typedef Homeward__Interviews__V1__PreventionInterviewForm prevention_form;
typedef Homeward__Interviews__V1__ReturnInterviewForm return_form;

/* A prevention interview ready to submit (R-RET-1): when it took place, an
 * answer in each of the guide's four sections, known codes, and details
 * whenever a disclosure is flagged. form may be NULL (reported missing). */
void forms_check_prevention(const prevention_form *form, int64_t located_at_ms, int64_t now_ms,
                            hw_status *st);

/* A return interview ready to submit (R-RET-2): App. 4's required fields,
 * known codes, "Other" texts; sets *within to the computed "completed within
 * time frames" and, when late, requires a reason. form may be NULL. */
void forms_check_return(const return_form *form, int64_t located_at_ms, int64_t now_ms,
                        bool *within, hw_status *st);

/* A CSE-related contributory factor or reason for running is recorded. */
bool forms_return_mentions_cse(const return_form *form);

/* True if s has a character other than white space. */
bool forms_has_text(const char *s);

#endif
