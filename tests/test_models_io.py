"Checkpoint round trips and loading of local Hugging Face folders."
import json
import pytest, torch
from warmstart_kit.models.build import make_model
from warmstart_kit.models.checkpoints import save_checkpoint, load_checkpoint
from warmstart_kit.core.errors import ModelError
from warmstart_kit.tasks.tokenizer import char_tokenizer

@pytest.mark.parametrize('arch', ['llama', 'gpt2'])
def test_roundtrip_exact(tmp_path, arch):
    m, tok = make_model('test', arch=arch, seed=7), char_tokenizer()
    save_checkpoint(m, tok, tmp_path / 'c', meta={'dose': 0.1})
    m2, tok2, meta = load_checkpoint(tmp_path / 'c')
    sd1, sd2 = m.state_dict(), m2.state_dict()
    assert sd1.keys() == sd2.keys() and all(torch.equal(sd1[k], sd2[k]) for k in sd1)
    assert tok2.get_vocab() == tok.get_vocab() and meta == {'dose': 0.1}
    s = "12 4 3>7:try 12-4=8,8+3=11 no;A:(12-4)-3"
    assert tok2(s).input_ids == tok(s).input_ids and tok2.decode(tok(s, add_special_tokens=False).input_ids) == s

def test_plain_hf_folder_without_tokenizer(tmp_path):
    m = make_model('test')
    m.save_pretrained(tmp_path / 'hf')                 # an ordinary HF folder, no tokenizer, no warmstart.json
    m2, tok, meta = load_checkpoint(tmp_path / 'hf')
    assert meta == {} and len(tok) == 64
    x = torch.randint(4, 60, (1, 5))
    assert torch.equal(m.eval()(x).logits, m2.eval()(x).logits)

def test_errors(tmp_path):
    with pytest.raises(ModelError, match='does not exist'): load_checkpoint(tmp_path / 'nope')
    (tmp_path / 'e').mkdir()
    with pytest.raises(ModelError, match='has no config.json'): load_checkpoint(tmp_path / 'e')
    (tmp_path / 'e' / 'config.json').write_text(json.dumps(make_model('test').config.to_dict()))
    with pytest.raises(ModelError, match='no \\*.safetensors'): load_checkpoint(tmp_path / 'e')
    with pytest.raises(ModelError, match="unknown model preset 'xl'"): make_model('xl')

def test_atomic_save_leaves_no_temp(tmp_path):
    m, tok = make_model('test'), char_tokenizer()
    save_checkpoint(m, tok, tmp_path / 'c'); save_checkpoint(m, tok, tmp_path / 'c')   # overwrite
    assert sorted(p.name for p in tmp_path.iterdir()) == ['c']
