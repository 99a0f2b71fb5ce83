#!/usr/bin/env bash
# test_compose.sh -- docker-compose.yml is valid, and runs the set we expect.
# Offline: Debian's docker-compose 1.29 validates without a Docker engine.
set -euo pipefail
cd "${HW_SOURCE_DIR:-$(dirname "$0")/../..}"

command -v docker-compose >/dev/null || { echo "docker-compose is not installed"; exit 1; }
# Invalid YAML, an unknown key or a bad depends_on condition fails here.
docker-compose -f docker-compose.yml config -q

resolved=$(docker-compose -f docker-compose.yml config)
services=$(docker-compose -f docker-compose.yml config --services | sort | tr '\n' ' ')
expected="db-init episodes interviews keys meetings notifications postgres redis risk "
if [[ "$services" != "$expected" ]]; then
    echo "services: got '$services', want '$expected'"
    exit 1
fi
# Every one of the five serves gRPC health and waits for healthy dependencies.
for s in episodes risk interviews notifications meetings; do
    block=$(awk -v s="  $s:" '$0 == s {on=1; next} on && /^  [a-z]/ {on=0} on' <<<"$resolved")
    grep -q 'condition: service_healthy' <<<"$block" || { echo "$s: no healthy dependency"; exit 1; }
    grep -q 'hwctl' <<<"$block" || { echo "$s: no hwctl health check"; exit 1; }
    grep -q 'read_only: true' <<<"$block" || { echo "$s: root file system is writable"; exit 1; }
    grep -q "homeward-$s" <<<"$block" || { echo "$s: runs the wrong binary"; exit 1; }
done

# The same check must fail on a broken file, or it proves nothing.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/condition: service_healthy/condition: service_sleepy/' docker-compose.yml >"$tmp/docker-compose.yml"
if docker-compose -f "$tmp/docker-compose.yml" config -q 2>/dev/null; then
    echo "docker-compose accepted an invalid depends_on condition"
    exit 1
fi
echo "docker-compose.yml: valid, $(wc -w <<<"$services") services"

# deploy/k8s beside it: each service a Deployment with native gRPC probes on
# its port, non-root and read-only, and a Service.
/usr/bin/python3 - deploy/k8s/*.yaml <<'PY'
import sys, yaml
docs = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]
deps = {d['metadata']['name']: d for d in docs if d['kind'] == 'Deployment'}
svcs = {d['metadata']['name'] for d in docs if d['kind'] == 'Service'}
want = {'episodes', 'risk', 'interviews', 'notifications', 'meetings'}
assert set(deps) == want, f'deployments: {sorted(deps)}'
assert svcs == want, f'services: {sorted(svcs)}'
for name, d in deps.items():
    spec = d['spec']['template']['spec']
    assert d['spec']['replicas'] >= 2, name
    assert spec['securityContext']['runAsNonRoot'] is True, name
    (c,) = spec['containers']
    port = c['ports'][0]['containerPort']
    assert c['readinessProbe']['grpc']['port'] == port, name
    assert c['livenessProbe']['grpc']['port'] == port, name
    assert c['securityContext']['readOnlyRootFilesystem'] is True, name
    assert c['command'] == [f'homeward-{name}'], name
print(f'deploy/k8s: {len(deps)} deployments with gRPC probes')
PY
