// The peer engine's driver for `cargo xtask differential`: reads `why403 eval` JSON Lines
// (docs/eval-format.md) on standard input, runs each record through the public API of
// `@cloud-copilot/iam-simulate` (`runSimulation`, Strict mode) and writes one JSON line per
// non-blank input line, in order: {"id", "decision"} or {"id", "error"}, or {"id", "skip"}
// when the peer changed the request (it dropped context keys it does not accept for the
// action) so that the two engines would not evaluate the same request.
//
// usage: node driver.cjs PEER_DIR < cases.jsonl
// PEER_DIR is the folder where the package was installed with npm (target/peer). The package is
// AGPL-licensed: it is installed there at build time, called as a separate process, and no part
// of it is kept in this repository.
'use strict'

const path = require('node:path')
const readline = require('node:readline')
const { createRequire } = require('node:module')

const peerDir = path.resolve(process.argv[2] || 'target/peer')
const peer = createRequire(path.join(peerDir, 'package.json'))('@cloud-copilot/iam-simulate')

/// Our record (eval format) -> the peer's `Simulation`.
function translate(rec) {
  const req = rec.request || {}
  const pol = rec.policies || {}
  const doc = (p) => (typeof p === 'string' ? JSON.parse(decodeMaybe(p)) : p)
  const named = (prefix) => (p, i) => ({ name: `${prefix}${i}`, policy: doc(p) })
  // The peer adds RCPFullAWSAccess to every RCP level itself and refuses Allow statements in
  // an RCP, so the Allow-only policies of our RCP levels (RCPFullAWSAccess) are left out.
  const allowOnly = (p) => [].concat(doc(p).Statement || []).every((s) => s.Effect === 'Allow')
  const levels = (kind, lv) =>
    (lv || []).map((policies, i) => ({
      orgIdentifier: `${kind}-level-${i}`,
      policies: policies
        .filter((p) => kind !== 'rcp' || !allowOnly(p))
        .map(named(`${kind}-${i}-`))
    }))
  const sim = {
    request: {
      principal: req.anonymous ? peer.anonymousPrincipal : req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resource_account },
      contextVariables: req.context || {}
    },
    identityPolicies: (pol.identity || []).map(named('identity-')),
    serviceControlPolicies: levels('scp', pol.scp),
    resourceControlPolicies: levels('rcp', pol.rcp)
  }
  if (pol.resource != null) sim.resourcePolicy = doc(pol.resource)
  if (pol.boundary != null) sim.permissionBoundaryPolicies = pol.boundary.map(named('boundary-'))
  if (pol.session != null) sim.sessionPolicy = doc(pol.session)
  if (pol.vpc_endpoint != null) sim.vpcEndpointPolicies = pol.vpc_endpoint.map(named('vpce-'))
  const s = rec.settings || {}
  if (s.s3_block_public_access !== undefined) {
    sim.additionalSettings = { s3: { blockPublicAccess: !!s.s3_block_public_access } }
  }
  return sim
}

function decodeMaybe(text) {
  const t = text.trim()
  return t.startsWith('{') ? t : decodeURIComponent(t)
}

function firstError(errors) {
  const { message, ...rest } = errors || {}
  const detail = JSON.stringify(rest)
  return `${message || 'error'}: ${detail.length > 300 ? detail.slice(0, 300) + '…' : detail}`
}

async function evaluate(line) {
  let rec
  try {
    rec = JSON.parse(line)
  } catch (e) {
    return { id: null, error: `not JSON: ${e.message}` }
  }
  const id = rec.id === undefined ? null : rec.id
  try {
    const res = await peer.runSimulation(translate(rec), { simulationMode: 'Strict' })
    if (res.resultType === 'error') return { id, error: firstError(res.errors) }
    if (res.resultType !== 'single') return { id, skip: `result type ${res.resultType}` }
    const ignored = res.result.ignoredContextKeys || []
    if (ignored.length > 0) return { id, decision: res.overallResult, skip: `ignored context keys ${ignored.join(', ')}` }
    return { id, decision: res.overallResult }
  } catch (e) {
    return { id, error: `exception: ${e && e.message ? e.message : String(e)}` }
  }
}

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  const out = []
  for await (const line of rl) {
    if (line.trim() === '') continue
    out.push(JSON.stringify(await evaluate(line)))
    if (out.length >= 256) {
      process.stdout.write(out.join('\n') + '\n')
      out.length = 0
    }
  }
  if (out.length > 0) process.stdout.write(out.join('\n') + '\n')
}

main().catch((e) => {
  process.stderr.write(`driver: ${e && e.stack ? e.stack : e}\n`)
  process.exit(2)
})
