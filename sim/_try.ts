import { startSimulator } from './index.js'
const sim = await startSimulator({ port: 0, speed: 0 })
const H = { 'X-Plex-Token': sim.token }
const J = { ...H, Accept: 'application/json' }
const show = async (p: string, h: Record<string, string>, n = 1200) => {
  const r = await fetch(sim.url + p, { headers: h })
  const text = await r.text()
  console.log('==', p, r.status, r.headers.get('content-type'), text.length, r.headers.get('x-plex-container-total-size'))
  console.log(text.slice(0, n))
}
await show('/library/sections/1/all?type=1', { ...J, 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': '2' })
await show('/library/sections/2/all?type=4&includeCollections=0', { ...J, 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': '0' })
await show('/library/sections/2/all?type=3', { ...H, 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': '1' })
await show('/library/sections/5/all?type=4', J)
await show('/status/sessions/history/all?sort=viewedAt:desc', { ...J, 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': '3' })
await show('/library/recentlyAdded', { ...J, 'X-Plex-Container-Start': '0', 'X-Plex-Container-Size': '4' }, 3000)
await show('/library/metadata/20036,20040', J, 600)
await show('/api/servers/' + sim.machineIdentifier + '/shared_servers?X-Plex-Token=' + sim.token, {}, 1500)
await show('/status/sessions', {})
await show('/library/metadata/20036/thumb/123', H, 20)
console.log(JSON.stringify(sim.control.state(), null, 1).slice(0, 3000))
await sim.close()
