#!/usr/bin/env python3
"""No import circle between the server's modules: a module's references to others
(`crate::x`, `super::y`, `use super::{y::…}`, outside its test module) form a graph
that must have no cycle. Prints each circle found and exits 1; run by scripts/test.sh."""
import re,os,sys,itertools
root=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'crates', 'server', 'src')
mods={}
for dp,_,fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p=os.path.join(dp,f); rel=os.path.relpath(p,root)[:-3]
        parts=rel.split('/')
        if parts[-1] in ('mod','lib','main'): parts=parts[:-1]
        mods['::'.join(parts) or 'crate']=p
def strip_tests(s):
    i=s.find('#[cfg(test)]')
    return s if i<0 else s[:i]
graph={m:set() for m in mods}
for m,p in mods.items():
    s=strip_tests(open(p).read())
    s=re.sub(r'//[^\n]*','',s)
    parent=m.rsplit('::',1)[0] if '::' in m else ''
    for ref in re.findall(r'crate::([a-z_]+(?:::[a-z_]+)?)',s):
        parts=ref.split('::')
        for k in (ref, parts[0]):
            if k in mods and k!=m and not m.startswith(k+'::') and not k.startswith(m+'::'): graph[m].add(k); break
    for ref in re.findall(r'super::([a-z_]+)',s):
        k=(parent+'::'+ref) if parent else ref
        if k in mods and k!=m: graph[m].add(k)
    # use super::{a::x, b}
    for grp in re.findall(r'use super::\{([^}]*)\}',s):
        for it in re.findall(r'([a-z_]+)::',grp):
            k=(parent+'::'+it) if parent else it
            if k in mods and k!=m: graph[m].add(k)
# tarjan
idx={};low={};st=[];on=set();sccs=[];c=[0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in graph[v]:
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        if len(comp)>1: sccs.append(comp)
for v in graph:
    if v not in idx: sc(v)
for comp in sccs:
    print("import circle in the server:", " ↔ ".join(sorted(comp)), file=sys.stderr)
sys.exit(1 if sccs else 0)
