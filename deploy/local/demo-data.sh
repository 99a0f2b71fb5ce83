#!/usr/bin/env bash
# demo-data.sh -- a small, clearly fictional data set for a newcomer, loaded
# through the Episodes API with hwctl (run by `./homeward up` unless --empty).
#
# Two children's homes in a demo authority, each with its police SPOC; five
# children: one aged 12, one placed by another authority (an LLR-profile
# authority placing into a STAFFS-profile area), one with two episodes in the
# last 90 days; one episode open now. Every request has a fixed request_id,
# so running the script again changes nothing (the first answers come back).
#
# Environment: HWCTL (default build/hwctl), EPISODES_ADDR, HOMEWARD_DEV_KEY
# (as printed by `./homeward env`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HWCTL=${HWCTL:-$ROOT/build/hwctl}
PY=/usr/bin/python3
export HOMEWARD_PURPOSE="demo data: loading fictional records"

token() { "$HWCTL" token "$@"; }
# call TOKEN METHOD JSON -> the reply's JSON on stdout
call() {
    local tok=$1 method=$2 body=$3
    HOMEWARD_TOKEN=$tok "$HWCTL" call episodes "$method" "$body" --compact
}
# field PATH <json : print a value from the reply ("episode.id")
field() { "$PY" -c 'import json,sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v[k]
print(v)' "$1"; }
ago() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
dob_years_ago() { date -u -d "$1 years ago $2 days ago" +%Y-%m-%d; }

CSC=$(token --role csc_lead --org la-stoke --sub demo-csc-lead --name "Demo CSC Lead")
SW=$(token --role social_worker --org la-stoke --sub demo-sw-stoke --name "Demo Social Worker")
SW_LEICS=$(token --role social_worker --org la-leics --sub demo-sw-leics --name "Demo LLR Social Worker")
OFFICER=$(token --role police_officer --org force-staffs --sub demo-pc-1 --name "PC Demo One")
SERGEANT=$(token --role lpt_sergeant --org force-staffs --sub demo-sgt-1 --name "Sgt Demo")

echo "    homes"
HOME_A=$(call "$CSC" UpsertHome '{"request_id":"demo-home-a","home":{"name":"Willow House (demo)",
  "address":"1 Example Road, Demo Town","provider":"Fictional Care Ltd","host_authority":"la-stoke",
  "spoc_officers":[{"user_id":"demo-spoc-1","name":"PC Spoc Demo","organisation":"force-staffs"}],
  "staff_contacts":[{"name":"Duty Manager (demo)","phone":"01632 960000"}]}}' | field id)
HOME_B=$(call "$CSC" UpsertHome '{"request_id":"demo-home-b","home":{"name":"Birch Lodge (demo)",
  "address":"2 Example Road, Demo Town","provider":"Fictional Care Ltd","host_authority":"la-stoke",
  "spoc_officers":[{"user_id":"demo-spoc-2","name":"PC Second Spoc","organisation":"force-staffs"}]}}' | field id)

# child REQUEST_KEY TOKEN JSON-CHILD -> id
child() { call "$2" UpsertChild "{\"request_id\":\"demo-child-$1\",\"child\":$3}" | field id; }
# placement KEY TOKEN CHILD HOME PLACING STARTS
placement() {
    call "$2" UpsertPlacement "{\"request_id\":\"demo-placement-$1\",\"placement\":{\"child_id\":\"$3\",
      \"home_id\":\"$4\",\"placement_type\":\"children's home\",\"placing_authority\":\"$5\",
      \"starts_at\":\"$6\"}}" >/dev/null
}
reg41() {
    local pid
    pid=$(call "$SW" GetChild "{\"child_id\":\"$2\"}" | field current_placement.id)
    call "$SW" SubmitRegulation41 "{\"request_id\":\"demo-reg41-$1\",\"notification\":{\"placement_id\":\"$pid\",
      \"reason_for_placement\":\"planned move (demo)\",\"completed_by\":\"Demo Carer\"}}" >/dev/null
}

echo "    children"
C1=$(child 1 "$SW" "{\"first_name\":\"Ava\",\"last_name\":\"Demo-Example\",\"date_of_birth\":\"$(dob_years_ago 12 40)\",
  \"gender\":\"female\",\"looked_after\":true,\"legal_status\":\"s31\",\"responsible_authority\":\"la-stoke\",
  \"description\":{\"height_cm\":142,\"build\":\"slight\",\"hair\":\"dark, shoulder length\",\"eyes\":\"brown\"},
  \"vulnerabilities\":\"young for her age; trusting of adults online\",
  \"social_worker\":{\"user_id\":\"demo-sw-stoke\",\"name\":\"Demo Social Worker\"},
  \"health\":{\"conditions\":\"asthma\",\"medication\":\"salbutamol inhaler\",\"effect_of_missing_medication\":\"breathless on exertion\"},
  \"family_contacts\":[{\"name\":\"Demo Aunt\",\"relationship\":\"aunt\",\"phone\":\"01632 960001\"},
                       {\"name\":\"Demo Father\",\"relationship\":\"father\",\"do_not_notify\":true}]}")
C2=$(child 2 "$SW_LEICS" "{\"first_name\":\"Ben\",\"last_name\":\"Placed-Example\",\"date_of_birth\":\"$(dob_years_ago 15 100)\",
  \"gender\":\"male\",\"looked_after\":true,\"legal_status\":\"s20\",\"responsible_authority\":\"la-leics\",
  \"social_worker\":{\"user_id\":\"demo-sw-leics\",\"name\":\"Demo LLR Social Worker\"}}")
C3=$(child 3 "$SW" "{\"first_name\":\"Cara\",\"last_name\":\"Repeat-Example\",\"date_of_birth\":\"$(dob_years_ago 14 10)\",
  \"gender\":\"female\",\"looked_after\":true,\"legal_status\":\"s31\",\"responsible_authority\":\"la-stoke\",
  \"known_addresses\":[{\"address\":\"Flat 3, 9 Sample Street (demo)\",\"notes\":\"older friends\"}],
  \"cse\":{\"concern\":true,\"notes\":\"seen with older males (demo)\"}}")
C4=$(child 4 "$SW" "{\"first_name\":\"Dev\",\"last_name\":\"Settled-Example\",\"date_of_birth\":\"$(dob_years_ago 16 200)\",
  \"looked_after\":true,\"legal_status\":\"s20\",\"responsible_authority\":\"la-stoke\"}")
C5=$(child 5 "$SW" "{\"first_name\":\"Eli\",\"last_name\":\"New-Example\",\"date_of_birth\":\"$(dob_years_ago 13 5)\",
  \"looked_after\":true,\"legal_status\":\"s38\",\"responsible_authority\":\"la-stoke\"}")

echo "    placements"
placement 1 "$SW" "$C1" "$HOME_A" la-stoke "$(ago '200 days ago')"
placement 2 "$SW_LEICS" "$C2" "$HOME_A" la-leics "$(ago '120 days ago')"
placement 3 "$SW" "$C3" "$HOME_B" la-stoke "$(ago '300 days ago')"
placement 4 "$SW" "$C4" "$HOME_B" la-stoke "$(ago '400 days ago')"
placement 5 "$SW" "$C5" "$HOME_B" la-stoke "$(ago '2 hours ago')"   # Regulation 41 still due
reg41 1 "$C1"; reg41 3 "$C3"; reg41 4 "$C4"
HOMEWARD_TOKEN=$SW_LEICS "$HWCTL" call episodes SubmitRegulation41 "{\"request_id\":\"demo-reg41-2\",
  \"notification\":{\"placement_id\":\"$(HOMEWARD_TOKEN=$SW_LEICS "$HWCTL" call episodes GetChild "{\"child_id\":\"$C2\"}" --compact | field current_placement.id)\",
  \"reason_for_placement\":\"out-of-area placement (demo)\",\"completed_by\":\"Demo Carer\"}}" --compact >/dev/null

echo "    episodes"
# Cara: two episodes in the last 90 days, both over (located, closed by a supervisor).
for n in 1 2; do
    E=$(call "$OFFICER" ReportMissing "{\"request_id\":\"demo-report-3-$n\",\"report\":{\"child_id\":\"$C3\",
      \"last_seen_at\":\"$(ago "$((n * 20)) days ago")\",\"last_seen_place\":\"Demo Town bus station\",
      \"clothing\":\"black puffer jacket\",\"circumstances\":\"did not return after college (demo)\",
      \"reporter_name\":\"Demo Carer\"}}" | field episode.id)
    call "$OFFICER" MarkLocated "{\"request_id\":\"demo-located-3-$n\",\"episode_id\":\"$E\",\"located\":{
      \"at\":\"$(ago "$((n * 20 - 1)) days ago")\",\"place\":\"Flat 3, 9 Sample Street (demo)\",\"by\":\"PC Demo One\",
      \"how\":\"RETURN_METHOD_POLICE\"}}" >/dev/null
    call "$SERGEANT" CloseEpisode "{\"request_id\":\"demo-close-3-$n\",\"episode_id\":\"$E\",
      \"reason\":\"demo data: historic episode\"}" >/dev/null
done
# Ava (12): missing now.
OPEN=$(call "$OFFICER" ReportMissing "{\"request_id\":\"demo-report-1\",\"report\":{\"child_id\":\"$C1\",
  \"last_seen_at\":\"$(ago '3 hours ago')\",\"last_seen_place\":\"Demo Park gates\",
  \"clothing\":\"red coat, white trainers\",\"circumstances\":\"left the home after a phone call (demo)\",
  \"reporter_name\":\"Demo Carer\",\"police_incident_ref\":\"DEMO-0001\",
  \"carer_actions\":{\"searched_room\":true,\"contacted_friends_and_relatives\":true}}}" | field episode.id)
call "$SERGEANT" AssignOfficer "{\"request_id\":\"demo-assign-1\",\"episode_id\":\"$OPEN\",
  \"officer_id\":\"demo-pc-1\",\"officer_name\":\"PC Demo One\"}" >/dev/null

cat <<EOT
    demo data loaded: homes $HOME_A (Willow House) and $HOME_B (Birch Lodge),
    five children, open episode $OPEN.
    Try, as the SPOC of Willow House:
      export HOMEWARD_TOKEN=\$($HWCTL token --role spoc --org force-staffs --home $HOME_A --sub demo-spoc-1)
      $HWCTL call episodes GetHomeRoster '{}'
      $HWCTL call episodes WatchEpisodes '{}' --stream      # in a second terminal
EOT
