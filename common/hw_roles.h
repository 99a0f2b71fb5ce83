/* hw_roles.h -- the roles a token may carry (PROTOCOL "People who use it").
 *
 * One name per role, used in tokens ("roles" claim), in each service's
 * method table and in per-record checks. Organisation ("org" claim) is a
 * police force code ("force-staffs") or a local authority code
 * ("la-stoke"). */
#ifndef HW_ROLES_H
#define HW_ROLES_H

#define HW_ROLE_CALL_HANDLER "call_handler"             /* control room: takes reports, initial risk */
#define HW_ROLE_OFFICER "police_officer"                /* secondary risk, locates, prevention interview */
#define HW_ROLE_CONTROL_ROOM_MANAGER "control_room_manager" /* first step of a risk dispute (R-RISK-6) */
#define HW_ROLE_LPT_SERGEANT "lpt_sergeant"             /* second step of a risk dispute; a supervisor */
#define HW_ROLE_MPC "missing_person_coordinator"        /* reviews every episode, trends (R-MPC-1) */
#define HW_ROLE_SPOC "spoc"                             /* police SPOC for children's homes (R-SPOC-1) */
#define HW_ROLE_SOCIAL_WORKER "social_worker"
#define HW_ROLE_TEAM_MANAGER "team_manager"
#define HW_ROLE_CSC_LEAD "csc_lead"                     /* children's social care lead */
#define HW_ROLE_IRO "iro"                               /* independent reviewing officer */
#define HW_ROLE_POD_COORDINATOR "pod_coordinator"
#define HW_ROLE_CSE_SOCIAL_WORKER "cse_social_worker"
#define HW_ROLE_RETURN_WORKER "return_interview_worker" /* commissioned provider */
#define HW_ROLE_CARE_STAFF "care_staff"                 /* children's home staff, foster carer */
#define HW_ROLE_SERVICE "service"                       /* another Homeward service */

/* Police roles see their force's episodes (R-SEC-1). */
#define HW_POLICE_ROLES HW_ROLE_CALL_HANDLER, HW_ROLE_OFFICER, HW_ROLE_CONTROL_ROOM_MANAGER, \
                        HW_ROLE_LPT_SERGEANT, HW_ROLE_MPC, HW_ROLE_SPOC
/* Local authority roles see their authority's children (R-SEC-1). */
#define HW_LA_ROLES HW_ROLE_SOCIAL_WORKER, HW_ROLE_TEAM_MANAGER, HW_ROLE_CSC_LEAD, HW_ROLE_IRO, \
                    HW_ROLE_POD_COORDINATOR, HW_ROLE_CSE_SOCIAL_WORKER, HW_ROLE_RETURN_WORKER

#endif
