import json, random, tomllib
from brief.report.paper_view import unstated_matches, matched_note
b=json.load(open('/tmp/s46/demo-now/briefings/2026-W24.json')); a=json.load(open('/work/rd47b/briefings/2026-W24.json'))
B={p['id']:p for p in b['accepted']}
items=[]; key=[]
rnd=random.Random(47)
for p in a['accepted']:
    q=B.get(p['id'])
    if not q: continue
    extra=unstated_matches(q['reason'],q['matched'])
    before=q['reason']+((" (matched: "+", ".join(extra)+")") if extra else "")
    after=p['reason']+matched_note(p['reason'],p['matched'],p.get('matched_elsewhere',{}))
    if before==after: continue
    x_is_after=rnd.random()<0.5
    X,Y=(after,before) if x_is_after else (before,after)
    items.append(f"## Item {len(items)+1}\n\nPaper: {p['title']}\nKept for topic: {p['topic']}\n\nX: Why: {X}\n\nY: Why: {Y}\n")
    key.append({"item":len(items),"id":p['id'],"x_is_after":x_is_after,"before":before,"after":after})
cfg=tomllib.load(open('/work/main/data/demo.toml','rb'))
tt="\n".join(f"- {t['name']}: keywords {', '.join(t.get('keywords',[]))}" for t in cfg['criteria']['topics'])
open('packet.md','w').write("# Why lines: which tells a reader better why the paper was kept (blind)\n\nThe criteria's topics and their keywords:\n"+tt+"\n\n"+"\n".join(items))
json.dump(key,open('key.json','w'),indent=1)
print(len(items))
