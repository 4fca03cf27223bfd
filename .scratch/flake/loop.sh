#!/bin/bash
# usage: loop.sh N TESTFILE
cd /work/main
node -e 'for(;;){}' & HOG=$!
for i in $(seq 1 $1); do
  node --import tsx --test --test-force-exit $2 > .scratch/flake/run$i.log 2>&1
  echo "run $i rc $?"; grep -h "DBG\|out of turn" .scratch/flake/run$i.log | head -5
done
kill $HOG
