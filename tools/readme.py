"""README.md from nbs/index.ipynb, as `nbdev_readme` would write it without Quarto: nbconvert to markdown, with the
input of every `#| echo: false` cell left out (its output stays: the default study's section is such a cell)."""
import sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter
from nbconvert.preprocessors import TagRemovePreprocessor

ROOT = Path(__file__).resolve().parents[1]

def readme(src:Path=ROOT / 'nbs' / 'index.ipynb')->str:
    nb = nbformat.read(src, as_version=4)
    for c in nb.cells:
        if c.cell_type == 'code' and c.source.lstrip().startswith('#| echo: false'): c.metadata.setdefault('tags', []).append('remove_input')
    ex = MarkdownExporter()
    ex.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'remove_input'}), enabled=True)
    return ex.from_notebook_node(nb)[0]

if __name__ == '__main__':
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / 'README.md'
    out.write_text(readme()); print(f'wrote {out}')
